// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "GridLedger",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ModbusBridge", targets: ["ModbusBridge"]),
        .library(name: "LedgerLite", targets: ["LedgerLite"]),
        .executable(name: "meter-agent", targets: ["MeterAgent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", "1.8.2"..<"2.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", "1.16.2"..<"2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", "7.10.0"..<"8.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", "5.0.1"..<"7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", "2.13.0"..<"3.0.0"),
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

        .target(
            name: "ModbusBridge",
            dependencies: [
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
                "ModbusBridge",
                "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "GridLedgerBench",
            dependencies: [
                "ModbusBridge",
                "LedgerLite",
            ],
            path: "Benchmarks/GridLedgerBench"
        ),

        .testTarget(
            name: "ModbusBridgeTests",
            dependencies: ["ModbusBridge"]
        ),
        .testTarget(
            name: "MeterAgentTests",
            dependencies: ["MeterAgent", "ModbusBridge"]
        ),
        .testTarget(
            name: "LedgerLiteTests",
            dependencies: ["LedgerLite"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
