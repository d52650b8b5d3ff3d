// The UBIGEO catalogue of Peru's provinces (INEI geographic codes).
//
// A UBIGEO code is DDPPdd: department DD (01..25), province PP within the
// department, district dd within the province. ruta keeps a child's origin at
// province precision ("0812", Quispicanchi) and uses the district of birth
// (6 digits) only inside the linkage pseudonym, never stored.
//
// The catalogue holds the 196 provinces of the 25 departments (Callao, 07,
// counts as a department with one province). Names are given for the
// departments and for the provinces of the two regions of the pilot (Cusco,
// Madre de Dios); other provinces are known by code only.
#ifndef RUTA_CORE_UBIGEO_H_
#define RUTA_CORE_UBIGEO_H_

#include <optional>
#include <string_view>
#include <vector>

namespace ruta::core {

// Number of provinces in the catalogue (196).
int UbigeoProvinceCount();

// Whether `code` is exactly 4 ASCII digits naming a province of the
// catalogue, e.g. "0813" (Urubamba) yes, "0814" no.
bool IsKnownProvince(std::string_view code);

// Display name of a province ("La Convención" for "0809"); nullopt when the
// code is unknown or the catalogue has no name for it.
std::optional<std::string_view> ProvinceName(std::string_view code);

// Whether `code` is 2 ASCII digits naming a department ("08").
bool IsKnownDepartment(std::string_view code);

// Display name of a department ("Madre de Dios" for "17"); nullopt when the
// code is unknown.
std::optional<std::string_view> DepartmentName(std::string_view code);

// Whether `code` is a well-formed district code: 6 ASCII digits whose first 4
// are a known province and whose last 2 are 01..99. (District lists are not
// in the catalogue: a well-formed code may still name no real district.)
bool IsWellFormedDistrict(std::string_view code);

// All province codes of the catalogue, in ascending order.
std::vector<std::string_view> AllUbigeoProvinces();

}  // namespace ruta::core

#endif  // RUTA_CORE_UBIGEO_H_
