// Spanish display text for what the node's tables name in English or by
// code: dimension and column names, enum values (stages, age bands, sex...),
// region slugs, UBIGEO province codes and quarters.
#ifndef RUTA_WEB_LABELS_H_
#define RUTA_WEB_LABELS_H_

#include <string>
#include <string_view>

namespace ruta::web {

// "region" -> "Región", "stage" -> "Etapa", "cases" -> "Casos"...; other
// names are taken as values of a crossed table's column dimension
// (ValueLabel: "FEMALE" -> "Femenino", "TOTAL" -> "Total").
std::string HeaderLabel(std::string_view name);

// A dimension value: "IMMEDIATE_PROTECTION" or "STAGE_IMMEDIATE_PROTECTION"
// -> "Protección inmediata", "12_14" -> "12 a 14 años", "FEMALE" ->
// "Femenino", "madre-de-dios" -> "Madre de Dios", "0812" -> "Quispicanchi",
// "2026Q3" -> "2026 T3", "TOTAL" -> "Total". Unknown values are returned
// unchanged.
std::string ValueLabel(std::string_view value);

// "cusco" -> "Cusco", "madre-de-dios" -> "Madre de Dios"; other slugs are
// returned unchanged.
std::string RegionName(std::string_view slug);

// Whether a dimension value or column name marks a total ("TOTAL", "total",
// "ALL").
bool IsTotalLabel(std::string_view value);

}  // namespace ruta::web

#endif  // RUTA_WEB_LABELS_H_
