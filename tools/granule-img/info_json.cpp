#include "info_json.hpp"

#include "json_writer.hpp"

#include <granule/options.hpp>

namespace granule_img {

namespace {

void write_node(json_writer &j, const granule::node_description &n)
{
    j.begin_object();
    j.member("name", n.name);
    j.member("driver", n.driver);
    j.key("options").begin_object();
    for (const auto &[k, v] : n.own_options)
        j.member(k, v);
    j.end_object();
    j.key("info").begin_array();
    for (const auto &line : n.info)
        j.string(line);
    j.end_array();
    j.key("children").begin_array();
    for (const auto &c : n.children)
        write_node(j, c);
    j.end_array();
    j.end_object();
}

}  // namespace

std::string info_json(std::string_view spec, const granule::device &d)
{
    const granule::device_description desc = d.description();
    const granule::limits l = d.get_limits();
    json_writer j;
    j.begin_object();
    j.member("schema_version", info_schema_version);
    j.member("spec", granule::redact_secrets(spec));
    j.member("length", d.length());
    j.member("read_only", d.read_only());
    j.member("growable", d.growable());
    j.key("tree");
    write_node(j, desc.root);
    const auto &fmt = d.format_probe();
    j.key("format").begin_object();
    j.member("name", fmt.format);
    using basis = granule::format_decision::basis;
    j.member("basis", fmt.how == basis::given       ? "given"
                      : fmt.how == basis::signature ? "signature"
                                                    : "no_signature");
    j.key("evidence");
    if (fmt.how == basis::signature)
        j.string(fmt.evidence);
    else
        j.null();
    j.member("description", fmt.describe());
    j.end_object();
    j.key("backing");
    if (desc.backing) {
        j.begin_object();
        j.member("copy_on_read", desc.copy_on_read);
        j.member("overlay_granularity", desc.overlay_granularity);
        j.key("tree");
        write_node(j, *desc.backing);
        j.end_object();
    } else {
        j.null();
    }
    j.key("throttle").begin_object();
    for (const auto &[k, v] : desc.throttle)
        j.member(k, v);
    j.end_object();
    j.key("limits").begin_object();
    for (const auto &f : granule::limit_fields) {
        j.key(f.name).begin_object();
        j.member("value", l.*f.member);
        j.member("source", l.source(f.id));
        j.end_object();
    }
    j.end_object();
    j.end_object();
    return j.text();
}

}  // namespace granule_img
