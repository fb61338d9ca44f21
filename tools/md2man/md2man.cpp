// md2man: a tool's manual page from its Markdown page in docs/, so the man
// page has one source, the docs. Built and run at build time; it knows the
// Markdown that docs/granule-*.md use and refuses anything else, naming the
// file and line, so a page never silently loses text:
//
//   # NAME — summary          the title: .TH and the NAME section (required)
//   ## Heading, ### Heading   .SH, .SS (#### too)
//   paragraphs                .PP
//   ```fenced code```         .nf; the first one before any ## is the SYNOPSIS
//   - bullet                  .IP \(bu (continuation lines indented or not)
//   term                      .TP (terms over several lines are joined)
//   : definition
//   | a | b | c |             pipe tables: the header as a line, each row .TP
//                             with the first cell as its tag
//   `code` **bold** *italic* [text](link) \-escapes, inline
// Text before the first ## is the DESCRIPTION. Every '-' is written \- so
// options stay ASCII hyphens; other characters beyond ASCII as \[uXXXX];
// a line may break after a ',' in `code`. The page is set ragged right
// without hyphenation.
//
//   md2man --name NAME --section N --source "Granule 0.1.0" IN.md OUT
// Exit 0, or 1 with "IN:LINE: why" on stderr (OUT is not written then).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct md_error : std::runtime_error {
    md_error(std::size_t line, const std::string &why)
        : std::runtime_error(std::to_string(line) + ": " + why)
    {
    }
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// One character of text for roff: '\' and '-' escaped, UTF-8 as \[uXXXX].
void put_char(std::string &out, std::string_view s, std::size_t &i, std::size_t line)
{
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else
            out += static_cast<char>(c);
        ++i;
        return;
    }
    int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
    if (n < 0 || i + static_cast<std::size_t>(n) >= s.size())
        throw md_error(line, "not UTF-8");
    unsigned cp = c & (0x3f >> n);
    for (int k = 1; k <= n; ++k) {
        const auto d = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((d & 0xc0) != 0x80)
            throw md_error(line, "not UTF-8");
        cp = cp << 6 | (d & 0x3f);
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\[u%04X]", cp);
    out += buf;
    i += static_cast<std::size_t>(n) + 1;
}

// Inline Markdown to roff. Fonts nest (**`x`**): each change names the font
// to return to, since \fP remembers one level only.
std::string inline_text(std::string_view s, std::size_t line)
{
    std::string out;
    std::vector<char> fonts{'R'};
    auto push = [&](char f) {
        fonts.push_back(f);
        out += "\\f";
        out += f;
    };
    auto pop = [&] {
        fonts.pop_back();
        out += "\\f";
        out += fonts.back();
    };
    bool bold = false, italic = false;
    for (std::size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (c == '`') {
            const auto end = s.find('`', i + 1);
            if (end == std::string_view::npos)
                throw md_error(line, "unclosed `code`");
            push('B');
            for (std::size_t k = i + 1; k < end;) {
                const bool comma = s[k] == ',';
                put_char(out, s, k, line);
                if (comma)
                    out += "\\:";  // a line may break after it (long option lists)
            }
            pop();
            i = end + 1;
        } else if (c == '\\' && i + 1 < s.size() && std::ispunct(static_cast<unsigned char>(s[i + 1]))) {
            ++i;
            put_char(out, s, i, line);
        } else if (starts_with(s.substr(i), "**")) {
            if (bold)
                pop();
            else
                push('B');
            bold = !bold;
            i += 2;
        } else if (c == '*' && (italic || (i + 1 < s.size() && s[i + 1] != ' ' &&
                                            s.find('*', i + 1) != std::string_view::npos))) {
            if (italic)
                pop();
            else
                push('I');
            italic = !italic;
            ++i;
        } else if (c == '[') {
            const auto close = s.find("](", i);
            const auto end = close == std::string_view::npos ? close : s.find(')', close);
            if (end == std::string_view::npos) {
                put_char(out, s, i, line);
                continue;
            }
            out += inline_text(s.substr(i + 1, close - i - 1), line);
            i = end + 1;
        } else {
            put_char(out, s, i, line);
        }
    }
    if (bold || italic)
        throw md_error(line, "unclosed ** or *");
    return out;
}

// Roff text lines: none may start with '.' or '\'' (requests).
std::string text_lines(const std::string &roff)
{
    std::string out;
    std::istringstream in(roff);
    std::string l;
    while (std::getline(in, l)) {
        if (!l.empty() && (l[0] == '.' || l[0] == '\''))
            out += "\\&";
        out += l + "\n";
    }
    return out;
}

std::string code_block(const std::vector<std::string> &lines, std::size_t line)
{
    std::string body;
    for (const auto &l : lines) {
        for (std::size_t i = 0; i < l.size();)
            put_char(body, l, i, line);
        body += "\n";
    }
    return ".RS 4\n.nf\n" + text_lines(body) + ".fi\n.RE\n";
}

// Cells of a pipe table row; a '|' inside `code` is no separator.
std::vector<std::string> cells(std::string_view row)
{
    row = trim(row);
    if (starts_with(row, "|"))
        row.remove_prefix(1);
    if (!row.empty() && row.back() == '|')
        row.remove_suffix(1);
    std::vector<std::string> out(1);
    bool code = false;
    for (char c : row) {
        if (c == '`')
            code = !code;
        if (c == '|' && !code)
            out.emplace_back();
        else
            out.back() += c;
    }
    for (auto &c : out)
        c = std::string(trim(c));
    return out;
}

struct page {
    std::string name, summary;
    std::string synopsis, description, body;
};

class converter {
public:
    explicit converter(std::vector<std::string> lines) : lines_(std::move(lines)) {}

    page run()
    {
        if (lines_.empty() || !starts_with(lines_[0], "# "))
            throw md_error(1, "the first line must be the title: # NAME — summary");
        const std::string title = lines_[0].substr(2);
        for (std::string_view dash : {" — ", " - "}) {
            if (auto at = title.find(dash); at != std::string::npos) {
                p_.name = title.substr(0, at);
                p_.summary = title.substr(at + dash.size());
                break;
            }
        }
        if (p_.summary.empty())
            throw md_error(1, "the title needs a summary: # NAME — summary");
        std::string *out = &p_.description;
        bool preamble = true;
        for (i_ = 1; i_ < lines_.size();) {
            const std::string &l = lines_[i_];
            const std::size_t at = i_ + 1;
            if (trim(l).empty()) {
                ++i_;
            } else if (starts_with(l, "## ") || starts_with(l, "### ") || starts_with(l, "#### ")) {
                const bool sh = starts_with(l, "## ");
                if (sh) {
                    preamble = false;
                    out = &p_.body;
                }
                *out += (sh ? ".SH " : ".SS ") + inline_text(trim(l.substr(l.find(' ') + 1)), at) + "\n";
                ++i_;
            } else if (starts_with(l, "#")) {
                throw md_error(at, "only one # title, then ## to #### headings");
            } else if (starts_with(l, "```")) {
                std::vector<std::string> code;
                for (++i_; i_ < lines_.size() && !starts_with(lines_[i_], "```"); ++i_)
                    code.push_back(lines_[i_]);
                if (i_++ == lines_.size())
                    throw md_error(at, "unclosed ``` block");
                if (preamble && p_.synopsis.empty())
                    p_.synopsis = code_block(code, at);
                else
                    *out += ".PP\n" + code_block(code, at);
            } else if (starts_with(l, "|")) {
                *out += table(at);
            } else if (starts_with(l, "- ")) {
                *out += ".IP \\(bu 2\n" + text_lines(inline_text(gather(l.substr(2)), at));
            } else if (starts_with(trim(l), "> ") || starts_with(trim(l), "<") ||
                       (std::isdigit(static_cast<unsigned char>(trim(l)[0])) &&
                        trim(l).find(". ") != std::string_view::npos &&
                        trim(l).find(". ") < 4) ||
                       starts_with(trim(l), "* ") || starts_with(l, "  - ")) {
                throw md_error(at, "not supported here (quotes, HTML, numbered or nested lists, '*' bullets): " + l);
            } else {
                std::string para = gather(l);
                if (i_ < lines_.size() && starts_with(lines_[i_], ": ")) {
                    const std::size_t def_at = i_ + 1;
                    std::string def = gather(lines_[i_].substr(2));
                    std::replace(para.begin(), para.end(), '\n', ' ');  // .TP's tag is one line
                    *out += ".TP\n" + text_lines(inline_text(para, at)) +
                            text_lines(inline_text(def, def_at));
                } else {
                    *out += ".PP\n" + text_lines(inline_text(para, at));
                }
            }
        }
        return p_;
    }

private:
    // first and the lines after it up to a blank line or another block
    // (headings, code, tables, ": " definitions and "- " items start one).
    std::string gather(std::string_view first)
    {
        std::string text(trim(first));
        for (++i_; i_ < lines_.size(); ++i_) {
            std::string_view l = lines_[i_];
            if (trim(l).empty() || starts_with(l, "#") || starts_with(l, "```") || starts_with(l, "|") ||
                starts_with(l, ": ") || starts_with(l, "- "))
                break;
            text += "\n";
            text += trim(l);
        }
        return text;
    }

    std::string table(std::size_t at)
    {
        std::vector<std::vector<std::string>> rows;
        for (; i_ < lines_.size() && starts_with(lines_[i_], "|"); ++i_)
            rows.push_back(cells(lines_[i_]));
        if (rows.size() < 2 || rows[1].empty() || rows[1][0].find_first_not_of("-: ") != std::string::npos)
            throw md_error(at, "a table needs a header row and a |---| row");
        std::string head;
        for (const auto &c : rows[0])
            head += (head.empty() ? "" : " \\(em ") + ("\\fI" + inline_text(c, at) + "\\fR");
        std::string out = ".PP\n" + text_lines(head);
        for (std::size_t r = 2; r < rows.size(); ++r) {
            if (rows[r].size() != rows[0].size())
                throw md_error(at + r, "a table row with another number of cells than its header");
            std::string rest;
            for (std::size_t c = 1; c < rows[r].size(); ++c)
                if (!rows[r][c].empty())
                    rest += (rest.empty() ? "" : " \\(em ") + inline_text(rows[r][c], at + r);
            out += ".TP\n" + text_lines(inline_text(rows[r][0], at + r)) + text_lines(rest);
        }
        return out;
    }

    std::vector<std::string> lines_;
    std::size_t i_ = 0;
    page p_;
};

std::string upper(std::string s)
{
    for (auto &c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

int main(int argc, char **argv)
{
    std::string name, section, source, in_path, out_path;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string &to) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "md2man: %s needs a value\n", argv[i]);
                std::exit(2);
            }
            to = argv[++i];
        };
        if (a == "--name")
            value(name);
        else if (a == "--section")
            value(section);
        else if (a == "--source")
            value(source);
        else if (in_path.empty())
            in_path = a;
        else if (out_path.empty())
            out_path = a;
        else {
            std::fprintf(stderr, "md2man: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (name.empty() || section.empty() || out_path.empty()) {
        std::fputs("usage: md2man --name NAME --section N [--source TEXT] IN.md OUT\n", stderr);
        return 2;
    }
    std::ifstream in(in_path);
    if (!in) {
        std::fprintf(stderr, "md2man: cannot read %s\n", in_path.c_str());
        return 1;
    }
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    page p;
    try {
        p = converter(std::move(lines)).run();
        if (p.name != name)
            throw md_error(1, "the title names '" + p.name + "', not '" + name + "'");
        if (p.synopsis.empty())
            throw md_error(1, "no ``` block before the first ## (the SYNOPSIS)");
    } catch (const md_error &e) {
        std::fprintf(stderr, "%s:%s\n", in_path.c_str(), e.what());
        return 1;
    }
    std::string page_text = ".\\\" Generated by md2man from " +
                            in_path.substr(in_path.rfind('/') == std::string::npos ? 0 : in_path.rfind('/') + 1) +
                            ": edit that file, not this one.\n";
    page_text += ".TH \"" + upper(name) + "\" \"" + section + "\" \"\" \"" + source + "\" \"" +
                 (source.empty() ? std::string() : source.substr(0, source.find(' '))) + " Manual\"\n";
    // Ragged right and no hyphenation: long literals (option lists, URLs)
    // neither leave lines that cannot be adjusted nor get split at a '-'.
    page_text += ".ad l\n.nh\n";
    page_text += ".SH NAME\n" + text_lines(inline_text(name, 1) + " \\- " + inline_text(p.summary, 1));
    page_text += ".SH SYNOPSIS\n" + p.synopsis;
    page_text += ".SH DESCRIPTION\n" + p.description + p.body;
    std::ofstream out(out_path + ".tmp");
    out << page_text;
    out.close();
    if (!out || std::rename((out_path + ".tmp").c_str(), out_path.c_str()) != 0) {
        std::fprintf(stderr, "md2man: cannot write %s\n", out_path.c_str());
        return 1;
    }
    return 0;
}
