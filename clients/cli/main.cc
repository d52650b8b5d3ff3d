// `ruta`: the command-line client of the ruta exchange (see README.md).
#include <unistd.h>

#include <iostream>

#include "ruta/cli/app.h"
#include "ruta/cli/io.h"

int main(int argc, char** argv) {
  ruta::cli::HardenProcess();
  ruta::cli::Io io{std::cin, std::cout, std::cerr, isatty(STDIN_FILENO) != 0,
                   ruta::cli::ProcessEnvironment()};
  ruta::cli::QuietGrpcLogging(io.env);
  return ruta::cli::Run(argc, argv, io);
}
