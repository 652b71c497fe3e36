#include "core/quote.hpp"

#include <cstdint>
#include <cstdio>

namespace zdm::core {

std::string quote_ident(const std::string& ident) {
  std::string out;
  out.reserve(ident.size() + 2);
  out.push_back('"');
  for (char c : ident) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string quote_qualified(const std::string& schema, const std::string& name) {
  return quote_ident(schema) + "." + quote_ident(name);
}

std::string quote_literal(const std::string& value) {
  std::string out;
  out.reserve(value.size() + 3);
  // As PostgreSQL's quote_literal: the E'' form only when a backslash needs
  // it, so that a hint reads zdm.finish('release_42').
  if (value.find('\\') != std::string::npos) out.push_back('E');
  out.push_back('\'');
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back(c);
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

namespace {

// FNV-1a: stable across platforms, enough to tell truncated names apart.
std::uint32_t fnv1a(const std::string& s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::size_t utf8_safe_cut(const std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s.size();
  std::size_t cut = max_bytes;
  // Step back over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

std::string fit_identifier(const std::string& name) {
  if (name.size() <= kMaxIdentifierBytes) return name;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_%08x", fnv1a(name));
  std::string head = name.substr(0, utf8_safe_cut(name, kMaxIdentifierBytes - 9));
  return head + suffix;
}

std::string readable_migration_name(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out.push_back('_');
    for (unsigned char c : part) {
      bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      if (c >= 'A' && c <= 'Z') {
        out.push_back(static_cast<char>(c - 'A' + 'a'));
      } else {
        out.push_back(keep ? static_cast<char>(c) : '_');
      }
    }
  }
  // Collapse runs of '_' produced by replaced characters.
  std::string collapsed;
  for (char c : out) {
    if (c == '_' && !collapsed.empty() && collapsed.back() == '_') continue;
    collapsed.push_back(c);
  }
  while (!collapsed.empty() && collapsed.back() == '_') collapsed.pop_back();
  if (collapsed.empty()) collapsed = "migration";
  return fit_identifier(collapsed);
}

std::string image_distinct_sql(const std::string& a, const std::string& b) {
  return "NOT pg_catalog.record_image_eq(ROW(" + a + "), ROW(" + b + "))";
}

std::string joined(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

}  // namespace zdm::core
