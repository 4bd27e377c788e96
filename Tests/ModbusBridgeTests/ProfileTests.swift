import Foundation
import Testing

@testable import ModbusBridge

@Suite("Meter profiles")
struct ProfileTests {
    static let library: ProfileLibrary = {
        do { return try ProfileLibrary.locate() } catch { fatalError("\(error)") }
    }()

    @Test("the shipped profiles load")
    func shippedProfilesLoad() throws {
        let names = Set(Self.library.profiles.keys)
        #expect(names.isSuperset(of: ["sdm120", "sdm630", "em24"]))
    }

    @Test("SDM630 has Eastron's standard addresses as input float32 ABCD")
    func sdm630Addresses() throws {
        let profile = try Self.library.profile(named: "sdm630")
        let expected: [String: UInt16] = [
            "voltage_l1": 0x0000, "voltage_l2": 0x0002, "voltage_l3": 0x0004,
            "current_l1": 0x0006, "current_l2": 0x0008, "current_l3": 0x000A,
            "power_l1": 0x000C, "power_l2": 0x000E, "power_l3": 0x0010,
            "power_total": 0x0034, "frequency": 0x0046,
            "energy_import": 0x0048, "energy_export": 0x004A,
        ]
        for (name, address) in expected {
            let measurand = try #require(profile.measurand(named: name), "\(name)")
            #expect(measurand.address == address, "\(name)")
            #expect(measurand.table == .inputRegisters)
            #expect(measurand.type == .float32)
            #expect(measurand.order == .ABCD)
        }
        #expect(profile.serial.baud == 9600)
        #expect(try Self.library.profile(named: "sdm120").serial.baud == 2400)
    }

    @Test("EM24 decodes through the integer path")
    func em24IsInteger() throws {
        let profile = try Self.library.profile(named: "em24")
        let voltage = try #require(profile.measurand(named: "voltage_l1"))
        #expect(voltage.type == .int32 && voltage.order == .CDAB && voltage.scale == 0.1)
        #expect(profile.measurand(named: "frequency")?.type == .uint16)
    }

    @Test("the shipped profiles declare the function codes their firmware implements")
    func functions() throws {
        #expect(try Self.library.profile(named: "sdm630").functions == [3, 4, 16])
        #expect(try Self.library.profile(named: "sdm120").functions == [3, 4, 16])
        #expect(try Self.library.profile(named: "em24").functions == [3, 4, 6])
        let unsaid = try ProfileLoader.parse(
            "name: plain\nmanufacturer: Test\nmodel: T1\nmeasurands:\n"
                + "  - { name: v, address: 0, type: float32, table: input, unit: V }",
            file: "meters/plain.yaml"
        )
        #expect(unsaid.functions == nil)
    }

    @Test("an unknown profile name lists the available ones")
    func unknownProfile() {
        let error = #expect(throws: ProfileError.self) { try Self.library.profile(named: "sdm999") }
        #expect(error?.description.contains("sdm630") == true)
        #expect(error?.description.contains("sdm999") == true)
    }

    @Test(
        "a broken profile names its file, the field and the problem",
        arguments: [
            (
                "measurands:\n  - { name: v, address: 0, type: flaot32, table: input, unit: V }",
                "measurands[0].type", "unknown value 'flaot32'"
            ),
            (
                "measurands:\n  - { name: v, address: 0, type: float32, table: input }",
                "measurands[0].unit", "missing"
            ),
            (
                "measurands:\n  - { name: v, address: 0x10000, type: float32, table: input, unit: V }",
                "measurands[0].address", "outside"
            ),
            (
                "measurands:\n  - { name: v, address: 0, type: float32, table: input, unit: V }\n  - { name: w, address: 1, type: float32, table: input, unit: V }",
                "measurands[1].address", "overlaps"
            ),
            (
                "measurands:\n  - { name: v, address: 0, type: float32, table: coil, unit: V }",
                "measurands[0].table", "'input' or 'holding'"
            ),
            (
                "maxRegistersPerRequest: 200\nmeasurands:\n  - { name: v, address: 0, type: float32, table: input, unit: V }",
                "maxRegistersPerRequest", "4 to 125"
            ),
            (
                "serial: { baud: 9601 }\nmeasurands:\n  - { name: v, address: 0, type: float32, table: input, unit: V }",
                "serial.baud", "unsupported"
            ),
            (
                "measurands:\n  - { name: v, address: [1], type: float32, table: input, unit: V }",
                "measurands[0].address", "expected an address"
            ),
            (
                "functions: [3, 4, 128]\nmeasurands:\n  - { name: v, address: 0, type: float32, table: input, unit: V }",
                "functions[2]", "not a Modbus function code"
            ),
            (
                "functions: []\nmeasurands:\n  - { name: v, address: 0, type: float32, table: input, unit: V }",
                "functions", "empty"
            ),
        ]
    )
    func brokenProfile(body: String, field: String, problem: String) {
        let text = "name: broken\nmanufacturer: Test\nmodel: T1\n" + body
        let error = #expect(throws: ProfileError.self) { try ProfileLoader.parse(text, file: "meters/broken.yaml") }
        #expect(error?.file == "meters/broken.yaml")
        #expect(error?.field == field, "\(String(describing: error))")
        #expect(error?.problem.contains(problem) == true, "\(String(describing: error))")
    }

    @Test("a user adds a meter by dropping a YAML file into the profile directory")
    func userProfile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profiles-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        name: my-meter
        manufacturer: Acme
        model: M1
        defaults: { table: holding, type: uint32, order: DCBA }
        measurands:
          - { name: energy_import, obis: "1-0:1.8.0", address: 100, scale: 0.01, unit: kWh }
        """.write(to: directory.appendingPathComponent("my-meter.yaml"), atomically: true, encoding: .utf8)
        let library = try ProfileLibrary(directory: directory.path)
        let measurand = try #require(try library.profile(named: "my-meter").measurand(named: "energy_import"))
        #expect(measurand.type == .uint32 && measurand.order == .DCBA && measurand.address == 100)
    }
}
