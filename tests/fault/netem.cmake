# The realistic Madre de Dios link: two ruta-node processes in network
# namespaces joined by a veth pair with tc netem (delay, loss, link flaps).
# Needs root (CI runs as root); skipped with the reason when namespaces or
# netem are unavailable. See README-netem.md.
ruta_executable(netem_test netem_test.cc)
target_link_libraries(netem_test PRIVATE ruta_testing ruta_proto
  GTest::gtest_main absl::strings absl::synchronization absl::time)
add_dependencies(netem_test ruta-node)
gtest_discover_tests(netem_test DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS fault TIMEOUT 300)

# The same link where the kernel has no netem: 300 ms each way through the
# fault proxy inside each node's namespace, the same link flaps, no packet
# loss. It runs everywhere, so the suite always exercises a slow, flapping
# link between real processes in separate namespaces.
add_test(NAME netem_link_via_proxy COMMAND netem_test)
set_tests_properties(netem_link_via_proxy PROPERTIES LABELS fault TIMEOUT 300
  ENVIRONMENT RUTA_NETEM_TEST_FALLBACK_PROXY=1)
