// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "GridLedger",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ModbusBridge", targets: ["ModbusBridge"]),
        .library(name: "LedgerLite", targets: ["LedgerLite"]),
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
        .package(url: "https://github.com/apple/swift-metrics.git", "2.13.0"..<"3.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", "2.4.1"..<"3.0.0"),
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

        .target(name: "Executors"),
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
        .target(
            name: "OperatorKit",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "LedgerLite",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "MeterAgent",
            dependencies: [
                "Executors",
                "ModbusBridge",
                "LedgerLite",
                "OperatorKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "EdgeGateway",
            dependencies: [
                "Executors",
                "LedgerLite",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "SuperNode",
            dependencies: [
                "LedgerLite",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "GridLedgerBench",
            dependencies: [
                "ModbusBridge",
                "LedgerLite",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/GridLedgerBench"
        ),

        .testTarget(
            name: "ModbusBridgeTests",
            dependencies: ["ModbusBridge"]
        ),
        .testTarget(
            name: "MeterAgentTests",
            dependencies: [
                "MeterAgent", "ModbusBridge", "LedgerLite", "OperatorKit",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "EdgeGatewayTests",
            dependencies: [
                "EdgeGateway",
                "LedgerLite",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "SystemTests",
            dependencies: [
                "LedgerLite",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "SuperNodeTests",
            dependencies: [
                "SuperNode",
                "LedgerLite",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "LedgerLiteTests",
            dependencies: ["LedgerLite"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
