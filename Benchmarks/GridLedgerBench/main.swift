// `make bench` runs this in release mode. Each suite prints its figures beside a
// reference measured in the same run; none of them is a pass/fail test.
import Foundation

let arguments = Set(CommandLine.arguments.dropFirst())
func wants(_ suite: String) -> Bool { arguments.isEmpty || arguments.contains(suite) }

print("GridLedger benchmarks (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
if wants("modbus") {
    print("\n== modbus")
    try await ModbusBenchmarks.run()
    print("\n== modbus: every shipped profile, and a shared bus")
    try await ProfileBenchmarks.run()
}
if wants("ledger") {
    print("\n== ledger")
    try await LedgerBenchmarks.run()
}
if wants("gateway") {
    print("\n== gateway and agent")
    try await GatewayBenchmarks.run()
}
if wants("dispatch") {
    print("\n== dispatch (TNT)")
    try await DispatchBenchmarks.run()
}
if wants("fleet") {
    print("\n== emulated fleet (1,000 meters)")
    try await FleetBenchmarks.run()
}
if wants("enrollment") {
    print("\n== enrollment (10,000 producers)")
    try await EnrollmentBenchmarks.run()
}
if wants("settlement") {
    print("\n== settlement export (100 meters, two history sizes)")
    try SettlementBenchmarks.run()
}
if wants("seal") {
    print("\n== sealing (one-reading blocks, two numbers of producers)")
    try SealBenchmarks.run()
}
if wants("startup") {
    print("\n== start-up (20 meters, two history sizes)")
    try await StartupBenchmarks.run()
}
if wants("supernode") {
    print("\n== super node audit (20 meters, two history sizes)")
    try await SuperNodeBenchmarks.run()
}
if wants("replicas") {
    print("\n== super node on PostgreSQL: one replica and two (4 gateways pushing at once)")
    try await ReplicaBenchmarks.run()
}
