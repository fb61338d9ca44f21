#include <granule/platform/shared_library.hpp>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <mutex>
#include <vector>

namespace granule::platform {

std::filesystem::path this_module_dir()
{
    std::error_code ec;
    auto p = boost::dll::this_line_location(ec);
    return ec ? std::filesystem::path() : p.parent_path();
}

loaded_symbol load_symbol(const std::filesystem::path &path, const char *symbol)
{
    // Kept alive forever: drivers may own threads that run their code.
    static std::mutex mutex;
    static std::vector<boost::dll::shared_library> keep;
    loaded_symbol out;
    boost::dll::shared_library lib;
    try {
        // Boost.DLL's error_code is meaningless here; what() carries dlerror.
        lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception &e) {
        // Boost.DLL appends its meaningless error_code text after dlerror's.
        std::string why = e.what();
        if (auto cut = why.rfind(": Bad file descriptor"); cut != std::string::npos)
            why.erase(cut);
        out.error = path.string() + ": cannot load: " + why;
        return out;
    }
    if (!lib.has(symbol)) {
        out.error = path.string() + ": not a Granule driver (no symbol " + symbol + ")";
        return out;
    }
    out.address = reinterpret_cast<void *>(lib.get<void()>(symbol));
    std::lock_guard lock(mutex);
    keep.push_back(std::move(lib));
    return out;
}

}  // namespace granule::platform
