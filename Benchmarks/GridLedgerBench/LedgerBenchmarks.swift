enum LedgerBenchmarks { static func run() async throws {} }
