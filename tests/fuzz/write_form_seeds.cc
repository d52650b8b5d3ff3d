// Writes form_fuzzer's seed corpus: one valid posted body per form (first
// byte: the form), plus bodies with markup and identifier-shaped text.
// Usage: fuzz_write_form_seeds <corpus dir>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_write_form_seeds <corpus dir>\n";
    return 2;
  }
  const std::string rid = "request_id=0b9f3c2e-4d1a-4c55-9e0f-7a1b2c3d4e5f&";
  const std::vector<std::pair<int, std::string>> seeds = {
      {0, rid + "dni=45678912&tipo=CASE_KIND_VICTIM&etapa=STAGE_IDENTIFIED&"
                "edad=AGE_BAND_15_17&sexo=SEX_FEMALE&provincia=0812&forma="
                "EXPLOITATION_FORM_SEXUAL&lugar=SETTING_BAR&captacion="
                "RECRUITMENT_MEANS_FAMILY&mes=2026-10&base="
                "LEGAL_BASIS_UPE_PROTECTIVE_MEASURE"},
      {0, rid + "nombres=Mar%C3%ADa&apellidos=Quispe&nacimiento=2010-03-14&"
                "distrito=080101&tipo=CASE_KIND_PREVENTION&etapa="
                "STAGE_IDENTIFIED&edad=AGE_BAND_12_14&sexo=SEX_MALE&"
                "provincia=1701&mes=2026-09&base=LEGAL_BASIS_WRITTEN_CONSENT&"
                "consentimiento=1&confirmar=1"},
      {1, rid + "etapa=STAGE_RESIDENTIAL_CARE&version=3"},
      {2, rid + "motivo=CLOSED_REASON_REINTEGRATED&version=7"},
      {3, rid + "socio=cusco%2Ftdh&retirar=1"},
      {4, rid + "region=cusco&provincia=0801&servicio=SERVICE_TYPE_HEALTH&"
                "servicio=SERVICE_TYPE_LEGAL"},
      {5, rid + "motivo=REJECT_REASON_NO_CAPACITY&nota=sin+cupo+%3Cb%3E"},
      {6, rid + "nota=llamar+al+987654321"},
      {7, rid + "fecha=2026-11-20"},
      {8, rid + "fecha="},
      {9, rid + "tipo=SERVICE_TYPE_PSYCHOSOCIAL&proveedor=cusco%2Fcaritas&"
                "estado=SERVICE_STATUS_ONGOING&inicio=2026-11"},
      {10, rid + "estado=SERVICE_STATUS_COMPLETED&fin=2026-11&version=2"},
      {11, rid + "campana=%3Cscript%3Ealert(1)%3C%2Fscript%3E&provincia=1701&"
                 "mes=2026-10&personas=120"},
      {12, rid + "nivel=TRAINING_LEVEL_LOCAL&provincia=1701&mes=2026-10&"
                 "miembros=15"},
  };
  int n = 0;
  for (const auto& [kind, body] : seeds) {
    std::ofstream out(std::string(argv[1]) + "/seed-" + std::to_string(n++),
                      std::ios::binary);
    out << static_cast<char>(kind) << body;
    if (!out) {
      std::cerr << "cannot write the seed corpus in " << argv[1] << "\n";
      return 1;
    }
  }
  return 0;
}
