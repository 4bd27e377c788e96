// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "GridLedger",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ModbusBridge", targets: ["ModbusBridge"]),
        .library(name: "LedgerLite", targets: ["LedgerLite"]),
        .library(name: "LedgerStore", targets: ["LedgerStore"]),
        .executable(name: "meter-agent", targets: ["MeterAgent"]),
        .executable(name: "edge-gateway", targets: ["EdgeGateway"]),
        .executable(name: "super-node", targets: ["SuperNode"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", "1.8.2"..<"2.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", "1.16.2"..<"2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", "7.10.0"..<"8.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", "5.0.1"..<"7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", "2.13.0"..<"3.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", "2.28.1"..<"3.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", "1.37.0"..<"2.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", "2.101.2"..<"3.0.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", "1.35.2"..<"2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", "2.13.0"..<"3.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", "2.4.1"..<"3.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", "2.37.6"..<"3.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", "1.21.1"..<"2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", "1.33.2"..<"2.0.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages (scripts/setup installs them).
        .systemLibrary(
            name: "CModbus",
            path: "Sources/CModbus",
            pkgConfig: "libmodbus",
            providers: [.apt(["libmodbus-dev"])]
        ),
        .systemLibrary(
            name: "CSerialPort",
            path: "Sources/CSerialPort",
            pkgConfig: "libserialport",
            providers: [.apt(["libserialport-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CMosquitto",
            path: "Sources/CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),

        .target(name: "Executors"),
        // The rule for what only the user running this may touch: private key files (meters',
        // gateways', the root's, TLS keys), shared by the ledger's key files and GridTLS, and data
        // directories (the gateway's, the super node's, the meter agent's).
        .target(name: "PrivateFiles"),
        .target(
            name: "ModbusBridge",
            dependencies: [
                "Executors",
                "CModbus",
                "CSerialPort",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // TLS for both servers and every client: certificates and keys on disk, self-signed
        // certificates for `init`, certificate fingerprints, pinned and CA-file trust.
        .target(
            name: "GridTLS",
            dependencies: [
                "PrivateFiles",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "OperatorKit",
            dependencies: [
                "GridTLS",
                "PrivateFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Records, Merkle trees, chain rules, TNT and the verifier: pure, no I/O.
        .target(
            name: "LedgerLite",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ]
        ),
        // The contract of both servers' HTTP APIs: every request and response body, the route
        // table, and a typed client per server (GatewayClient, SuperNodeClient).
        .target(
            name: "GridAPI",
            dependencies: [
                "LedgerLite",
                "GridTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // The server side of the contract: registering a route of GridAPI's route tables.
        .target(
            name: "GridAPIServer",
            dependencies: [
                "GridAPI",
                "LedgerLite",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Where LedgerLite's values live on disk: the SQLite chain store, the pending journal, key files.
        .target(
            name: "LedgerStore",
            dependencies: [
                "CZlib",
                "LedgerLite",
                "PrivateFiles",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The edge gateway: ingest, the chain writer, queries, HTTP, uplink and escalation.
        .target(
            name: "GatewayCore",
            dependencies: [
                "GridAPIServer",
                "Executors",
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                "OperatorKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The super node: certificates, intake and audit of gateways' blocks, escalation.
        .target(
            name: "SuperNodeCore",
            dependencies: [
                "GridAPIServer",
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                "OperatorKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // MQTT through libmosquitto, and Home Assistant's discovery: one client on its own
        // thread, the newest state per topic, availability with a last will. Knows nothing of
        // readings, signing or gateways.
        .target(
            name: "HomeAssistantMQTT",
            dependencies: [
                "CMosquitto",
                "OperatorKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The meter agent: polling, signing, the outbox, forwarding, trading and auto-offers.
        .target(
            name: "AgentCore",
            dependencies: [
                "Executors",
                "HomeAssistantMQTT",
                "PrivateFiles",
                "ModbusBridge",
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                "OperatorKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Emulated meters behind Modbus servers: physics model, fleet files, injected faults.
        .target(
            name: "MeterEmulator",
            dependencies: [
                "ModbusBridge",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "MeterAgent",
            dependencies: [
                "AgentCore",
                "PrivateFiles",
                "HomeAssistantMQTT",
                "GridTLS",
                "MeterEmulator",
                "ModbusBridge",
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                "OperatorKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "EdgeGateway",
            dependencies: [
                "GatewayCore",
                "GridAPIServer",
                "GridTLS",
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "SuperNode",
            dependencies: [
                "SuperNodeCore",
                "GridTLS",
                "GridAPIServer",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "GridLedgerBench",
            dependencies: [
                "ModbusBridge",
                "GridTLS",
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                "GatewayCore",
                "SuperNodeCore",
                "OperatorKit",
                "MeterEmulator",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/GridLedgerBench"
        ),

        // `make fuzz`: validly signed hostile inputs through the real admission code, in
        // process (FuzzKit); FuzzTests runs a fixed-seed slice of it in CI.
        .target(
            name: "FuzzKit",
            dependencies: [
                "GatewayCore",
                "SuperNodeCore",
                "GridAPI",
                "LedgerLite",
                "LedgerStore",
                "ModbusBridge",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Fuzz/FuzzKit"
        ),
        .executableTarget(
            name: "GridLedgerFuzz",
            dependencies: [
                "FuzzKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Fuzz/GridLedgerFuzz"
        ),

        // What every test target shares: a hand-moved clock, fixed keys, temporary
        // directories, log capture and waiting.
        .target(
            name: "TestSupport",
            dependencies: [
                "LedgerLite",
                "ModbusBridge",
                "GridAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "ModbusBridgeTests",
            dependencies: ["TestSupport", "ModbusBridge"]
        ),
        .testTarget(
            name: "MeterAgentTests",
            dependencies: [
                "TestSupport",
                "MeterAgent", "AgentCore", "MeterEmulator", "ModbusBridge", "LedgerLite", "GridAPI", "LedgerStore",
                "OperatorKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "EdgeGatewayTests",
            dependencies: [
                "TestSupport",
                "EdgeGateway",
                "GatewayCore",
                "GridAPIServer",
                "GridTLS",
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                "OperatorKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SystemTests",
            dependencies: [
                "TestSupport",
                "GridTLS",
                "OperatorKit",
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "SuperNodeTests",
            dependencies: [
                "TestSupport",
                "SuperNode",
                "SuperNodeCore",
                "GridTLS",
                "LedgerLite",
                "GridAPI",
                "LedgerStore",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HomeAssistantMQTTTests",
            dependencies: ["TestSupport", "HomeAssistantMQTT", "AgentCore", "LedgerLite", "ModbusBridge", "GridTLS"]
        ),
        .testTarget(
            name: "FuzzTests",
            dependencies: ["TestSupport", "FuzzKit"]
        ),
        .testTarget(
            name: "LedgerLiteTests",
            dependencies: [
                "TestSupport", "LedgerLite", "LedgerStore", "ModbusBridge",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
