#include "handshake.hpp"

#include "message.hpp"
#include "nbd_protocol.hpp"

#include <vector>

namespace asio = boost::asio;

namespace granule_nbd {

namespace {

// Option data above this is not read into memory: skipped and refused
// (NBD_REP_ERR_TOO_BIG), and above skip_limit not even skipped (disconnect).
constexpr std::uint32_t max_option_data = 64 * 1024;
constexpr std::uint32_t skip_limit = 16u << 20;

class haggler {
public:
    haggler(nbd_stream &s, export_table &e, tls_credentials *tls,
            const std::function<void(std::string)> &say)
        : stream_(s), exports_(e), tls_(tls), say_(say)
    {
    }

    asio::awaitable<std::optional<negotiated>> run()
    {
        co_await stream_.write(message_builder()
                                   .u64(nbd_magic)
                                   .u64(opt_magic)
                                   .u16(flag_fixed_newstyle | flag_no_zeroes)
                                   .data());
        unsigned char flags[4];
        co_await stream_.read_exact(flags, 4);
        const auto client_flags = static_cast<std::uint32_t>(get_be(flags, 4));
        if (client_flags & ~(flag_c_fixed_newstyle | flag_c_no_zeroes)) {
            say_("client sent unknown handshake flags " + std::to_string(client_flags) +
                 "; disconnecting (the protocol requires it)");
            co_return std::nullopt;
        }
        no_zeroes_ = client_flags & flag_c_no_zeroes;
        for (;;) {
            unsigned char header[16];
            co_await stream_.read_exact(header, sizeof header);
            if (get_be(header, 8) != opt_magic) {
                say_("client sent an option without the IHAVEOPT magic; disconnecting");
                co_return std::nullopt;
            }
            option_ = static_cast<std::uint32_t>(get_be(header + 8, 4));
            const auto length = static_cast<std::uint32_t>(get_be(header + 12, 4));
            if (length > max_option_data) {
                if (length > skip_limit) {
                    say_("client sent option " + std::to_string(option_) + " with " +
                         std::to_string(length) + " bytes of data; disconnecting");
                    co_return std::nullopt;
                }
                co_await stream_.skip(length);
                co_await error(rep_err_too_big, "option data of " + std::to_string(length) +
                                                    " bytes is more than the server reads (" +
                                                    std::to_string(max_option_data) + ")");
                continue;
            }
            data_.resize(length);
            co_await stream_.read_exact(data_.data(), length);
            if (auto done = co_await option(); done)
                co_return *done;
        }
    }

private:
    // One option; a value ends the handshake (nullopt inside: disconnect).
    asio::awaitable<std::optional<std::optional<negotiated>>> option()
    {
        if (option_ == opt_starttls) {
            co_return co_await starttls();
        }
        if (tls_ && !stream_.in_tls() && option_ != opt_abort) {
            if (option_ == opt_export_name) {
                say_("client asked for an export without TLS (NBD_OPT_EXPORT_NAME); disconnecting");
                co_return std::optional<negotiated>{};
            }
            co_await error(rep_err_tls_reqd, "this server requires TLS: NBD_OPT_STARTTLS first");
            co_return std::nullopt;
        }
        switch (option_) {
        case opt_export_name:
            co_return co_await export_name();
        case opt_abort:
            co_await reply(rep_ack, {});
            co_return std::optional<negotiated>{};
        case opt_list:
            co_await list();
            co_return std::nullopt;
        case opt_info:
        case opt_go:
            co_return co_await info_or_go();
        case opt_structured_reply:
            if (!data_.empty())
                co_await error(rep_err_invalid, "NBD_OPT_STRUCTURED_REPLY takes no data");
            else if (agreed_.structured_replies)
                co_await error(rep_err_invalid, "structured replies are already negotiated");
            else {
                agreed_.structured_replies = true;
                co_await reply(rep_ack, {});
            }
            co_return std::nullopt;
        case opt_list_meta_context:
        case opt_set_meta_context:
            co_await meta_context();
            co_return std::nullopt;
        default:
            co_await error(rep_err_unsup, "option " + std::to_string(option_) + " is not supported");
            co_return std::nullopt;
        }
    }

    asio::awaitable<std::optional<std::optional<negotiated>>> starttls()
    {
        if (!tls_)
            co_await error(rep_err_policy, "TLS is not configured on this server");
        else if (stream_.in_tls())
            co_await error(rep_err_invalid, "TLS is already on");
        else if (!data_.empty())
            co_await error(rep_err_invalid, "NBD_OPT_STARTTLS takes no data");
        else {
            co_await reply(rep_ack, {});
            co_await stream_.start_tls(*tls_);
            // What was agreed in plaintext does not carry over.
            agreed_ = {};
            base_allocation_ = false;
            meta_export_.clear();
        }
        co_return std::nullopt;
    }

    // The oldstyle way in: an unknown name can only be answered by closing.
    asio::awaitable<std::optional<std::optional<negotiated>>> export_name()
    {
        const std::string name(data_.begin(), data_.end());
        auto *e = exports_.find(name);
        if (!e) {
            say_("client asked for unknown export '" + name + "' (NBD_OPT_EXPORT_NAME); disconnecting");
            co_return std::optional<negotiated>{};
        }
        message_builder m;
        m.u64(e->dev->length()).u16(e->transmission_flags());
        if (!no_zeroes_)
            m.zeroes(124);
        co_await stream_.write(m.data());
        co_return chosen(*e);
    }

    asio::awaitable<void> list()
    {
        if (!data_.empty()) {
            co_await error(rep_err_invalid, "NBD_OPT_LIST takes no data");
            co_return;
        }
        for (auto &e : exports_.all()) {
            message_builder m;
            m.u32(static_cast<std::uint32_t>(e.name.size())).bytes(e.name).bytes(e.description);
            co_await reply(rep_server, m.data());
        }
        co_await reply(rep_ack, {});
    }

    asio::awaitable<std::optional<std::optional<negotiated>>> info_or_go()
    {
        message_reader r(data_);
        const auto name = r.string(r.u32());
        const auto count = r.u16();
        std::vector<std::uint16_t> requests;
        for (unsigned i = 0; i < count && r.ok(); ++i)
            requests.push_back(r.u16());
        if (!r.at_end()) {
            co_await error(rep_err_invalid, "malformed NBD_OPT_INFO/GO data");
            co_return std::nullopt;
        }
        auto *e = exports_.find(name);
        if (!e) {
            co_await error(rep_err_unknown, "no export named '" + name + "'");
            co_return std::nullopt;
        }
        co_await reply(rep_info, message_builder()
                                     .u16(info_export)
                                     .u64(e->dev->length())
                                     .u16(e->transmission_flags())
                                     .data());
        co_await reply(rep_info, message_builder()
                                     .u16(info_block_size)
                                     .u32(e->sizes.minimum)
                                     .u32(e->sizes.preferred)
                                     .u32(e->sizes.maximum)
                                     .data());
        for (auto what : requests) {
            if (what == info_name)
                co_await reply(rep_info, message_builder().u16(info_name).bytes(e->name).data());
            else if (what == info_description && !e->description.empty())
                co_await reply(rep_info,
                               message_builder().u16(info_description).bytes(e->description).data());
        }
        co_await reply(rep_ack, {});
        if (option_ == opt_info)
            co_return std::nullopt;
        co_return chosen(*e);
    }

    asio::awaitable<void> meta_context()
    {
        const bool set = option_ == opt_set_meta_context;
        message_reader r(data_);
        const auto name = r.string(r.u32());
        const auto count = r.u32();
        std::vector<std::string> queries;
        for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
            const auto len = r.u32();
            if (len > max_string) {
                co_await error(rep_err_too_big, "meta context query longer than " +
                                                    std::to_string(max_string) + " bytes");
                co_return;
            }
            queries.push_back(r.string(len));
        }
        if (!r.at_end()) {
            co_await error(rep_err_invalid, "malformed meta context option data");
            co_return;
        }
        if (set && !agreed_.structured_replies) {
            co_await error(rep_err_invalid, "NBD_OPT_SET_META_CONTEXT needs structured replies first");
            co_return;
        }
        if (!exports_.find(name)) {
            co_await error(rep_err_unknown, "no export named '" + name + "'");
            co_return;
        }
        bool selected = !set && queries.empty();  // LIST with no query: every context
        for (const auto &q : queries)
            selected |= q == base_allocation_name || (!set && q == "base:");
        if (set) {
            meta_export_ = name;
            base_allocation_ = selected;
        }
        if (selected)
            co_await reply(rep_meta_context, message_builder()
                                                 .u32(set ? base_allocation_id : 0)
                                                 .bytes(base_allocation_name)
                                                 .data());
        co_await reply(rep_ack, {});
    }

    negotiated chosen(nbd_export &e)
    {
        agreed_.exp = &e;
        // A context counts only for the export it was selected on.
        agreed_.base_allocation = base_allocation_ && meta_export_ == e.name;
        return agreed_;
    }

    asio::awaitable<void> reply(std::uint32_t type, std::vector<unsigned char> payload)
    {
        message_builder m;
        m.u64(rep_magic).u32(option_).u32(type).u32(static_cast<std::uint32_t>(payload.size()));
        m.data().insert(m.data().end(), payload.begin(), payload.end());
        co_await stream_.write(m.data());
    }

    asio::awaitable<void> error(std::uint32_t type, const std::string &why)
    {
        co_await reply(type, message_builder().bytes(why).data());
    }

    nbd_stream &stream_;
    export_table &exports_;
    tls_credentials *tls_;
    const std::function<void(std::string)> &say_;
    std::vector<unsigned char> data_;
    std::uint32_t option_ = 0;
    bool no_zeroes_ = false;
    negotiated agreed_;
    bool base_allocation_ = false;
    std::string meta_export_;
};

}  // namespace

asio::awaitable<std::optional<negotiated>> handshake(nbd_stream &stream, export_table &exports,
                                                     tls_credentials *tls,
                                                     const std::function<void(std::string)> &say)
{
    haggler h(stream, exports, tls, say);
    co_return co_await h.run();
}

}  // namespace granule_nbd
