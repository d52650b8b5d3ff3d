#include "ruta/core/ubigeo.h"

#include <string>
#include <utility>

namespace ruta::core {
namespace {

struct Department {
  const char* name;
  int provinces;  // provinces are numbered 01..provinces
};

// Departments 01..25 with their number of provinces (INEI).
constexpr Department kDepartments[] = {
    {"Amazonas", 7},       // 01
    {"Áncash", 20},        // 02
    {"Apurímac", 7},       // 03
    {"Arequipa", 8},       // 04
    {"Ayacucho", 11},      // 05
    {"Cajamarca", 13},     // 06
    {"Callao", 1},         // 07
    {"Cusco", 13},         // 08
    {"Huancavelica", 7},   // 09
    {"Huánuco", 11},       // 10
    {"Ica", 5},            // 11
    {"Junín", 9},          // 12
    {"La Libertad", 12},   // 13
    {"Lambayeque", 3},     // 14
    {"Lima", 10},          // 15
    {"Loreto", 8},         // 16
    {"Madre de Dios", 3},  // 17
    {"Moquegua", 3},       // 18
    {"Pasco", 3},          // 19
    {"Piura", 8},          // 20
    {"Puno", 13},          // 21
    {"San Martín", 10},    // 22
    {"Tacna", 4},          // 23
    {"Tumbes", 3},         // 24
    {"Ucayali", 4},        // 25
};
constexpr int kDepartmentCount =
    static_cast<int>(sizeof(kDepartments) / sizeof(kDepartments[0]));

struct NamedProvince {
  const char* code;
  const char* name;
};

// Provinces of the pilot's regions.
constexpr NamedProvince kProvinceNames[] = {
    {"0801", "Cusco"},         {"0802", "Acomayo"},
    {"0803", "Anta"},          {"0804", "Calca"},
    {"0805", "Canas"},         {"0806", "Canchis"},
    {"0807", "Chumbivilcas"},  {"0808", "Espinar"},
    {"0809", "La Convención"}, {"0810", "Paruro"},
    {"0811", "Paucartambo"},   {"0812", "Quispicanchi"},
    {"0813", "Urubamba"},      {"1701", "Tambopata"},
    {"1702", "Manu"},          {"1703", "Tahuamanu"},
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses exactly two ASCII digits; -1 otherwise.
int TwoDigits(std::string_view s) {
  if (s.size() != 2 || !IsDigit(s[0]) || !IsDigit(s[1])) return -1;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

}  // namespace

int UbigeoProvinceCount() {
  int n = 0;
  for (const Department& d : kDepartments) n += d.provinces;
  return n;
}

bool IsKnownDepartment(std::string_view code) {
  const int dept = TwoDigits(code);
  return dept >= 1 && dept <= kDepartmentCount;
}

std::optional<std::string_view> DepartmentName(std::string_view code) {
  if (!IsKnownDepartment(code)) return std::nullopt;
  return std::string_view(kDepartments[TwoDigits(code) - 1].name);
}

bool IsKnownProvince(std::string_view code) {
  if (code.size() != 4 || !IsKnownDepartment(code.substr(0, 2))) return false;
  const int province = TwoDigits(code.substr(2, 2));
  return province >= 1 &&
         province <= kDepartments[TwoDigits(code.substr(0, 2)) - 1].provinces;
}

std::optional<std::string_view> ProvinceName(std::string_view code) {
  if (!IsKnownProvince(code)) return std::nullopt;
  for (const NamedProvince& p : kProvinceNames) {
    if (code == p.code) return std::string_view(p.name);
  }
  return std::nullopt;
}

bool IsWellFormedDistrict(std::string_view code) {
  if (code.size() != 6 || !IsKnownProvince(code.substr(0, 4))) return false;
  return TwoDigits(code.substr(4, 2)) >= 1;
}

std::vector<std::string_view> AllUbigeoProvinces() {
  // Codes live in a static table so that the views stay valid.
  static const std::vector<std::string>* const codes = [] {
    auto* v = new std::vector<std::string>;
    for (int d = 1; d <= kDepartmentCount; ++d) {
      for (int p = 1; p <= kDepartments[d - 1].provinces; ++p) {
        std::string code = {
            static_cast<char>('0' + d / 10), static_cast<char>('0' + d % 10),
            static_cast<char>('0' + p / 10), static_cast<char>('0' + p % 10)};
        v->push_back(std::move(code));
      }
    }
    return v;
  }();
  return std::vector<std::string_view>(codes->begin(), codes->end());
}

}  // namespace ruta::core
