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
            (
                "measurands:\n  - { name: v, address: 0, type: uint16, table: input, unit: V, nan: 0x1FFFF }",
                "measurands[0].nan", "wider than uint16"
            ),
            (
                "measurands:\n  - { name: v, address: 0, type: uint16, table: input, unit: V, nan: lots }",
                "measurands[0].nan", "not a register value"
            ),
            (
                "measurands:\n  - { name: e, address: 0, type: uint32, table: input, unit: kWh, resolution: 0 }",
                "measurands[0].resolution", "positive"
            ),
            (
                "measurands:\n  - { name: v, address: 0, type: float32, table: input, unit: V, scaleRegister: 9 }",
                "measurands[0].scaleRegister", "needs no scale register"
            ),
            (
                "measurands:\n  - { name: v, address: 0, type: uint16, table: input, unit: V, scaleRegister: 3 }\n  - { name: w, address: 2, type: int32, table: input, unit: W }",
                "measurands[0].scaleRegister", "lies inside 'w'"
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

    @Test("models, source, nan sentinels, counter resolution and scale registers load")
    func newFields() throws {
        let profile = try ProfileLoader.parse(
            """
            name: acme
            manufacturer: Acme
            model: A1
            models: [A1, A2]
            source: "Acme A-series Modbus manual, rev. 3"
            defaults: { table: holding, type: uint32, nan: 0xFFFFFFFF }
            measurands:
              - { name: voltage_l1, address: 0, scale: 0.1, unit: V }
              - { name: energy_import, address: 2, type: uint64, scale: 0.01, unit: kWh, resolution: 0.01, nan: 0xFFFFFFFFFFFFFFFF }
              - { name: power, address: 6, type: int16, unit: W, scaleRegister: 7, nan: 0x8000 }
            """,
            file: "acme.yaml"
        )
        #expect(profile.models == ["A1", "A2"] && profile.source == "Acme A-series Modbus manual, rev. 3")
        #expect(profile.measurand(named: "voltage_l1")?.nan == 0xFFFF_FFFF, "from the defaults")
        let energy = try #require(profile.measurand(named: "energy_import"))
        #expect(energy.nan == .max && energy.resolution == 0.01)
        #expect(profile.measurand(named: "power")?.scaleRegister == 7)
    }

    @Test("a nan sentinel decodes as NaN, whatever the word order; other values decode as before")
    func nanSentinel() throws {
        for order in WordOrder.allCases {
            let m = Measurand(
                name: "v",
                table: .holdingRegisters,
                address: 0,
                type: .int32,
                order: order,
                scale: 0.1,
                unit: "V",
                nan: 0x7FFF_FFFF
            )
            let sentinel = try #require(m.unavailable())
            #expect(m.decode(sentinel[...]).value.isNaN, "\(order)")
            #expect(m.decode(try m.encode(230.1)[...]).value == 230.1, "\(order)")
        }
    }

    @Test("a scale register is read with its values and applied; SunSpec's 0x8000 means not implemented")
    func scaleRegister() throws {
        let volts = Measurand(
            name: "voltage",
            table: .holdingRegisters,
            address: 10,
            type: .uint16,
            unit: "V",
            scaleRegister: 14
        )
        let amps = Measurand(
            name: "current",
            table: .holdingRegisters,
            address: 11,
            type: .int16,
            unit: "A",
            scaleRegister: 15
        )
        let plan = ReadPlanner().plan([volts, amps])
        // One request spans the values and both scale registers, which are not reported.
        #expect(plan.requests.count == 1 && plan.requests[0].address == 10 && plan.requests[0].count == 6)
        #expect(plan.requests[0].measurands.map(\.name) == ["voltage", "current"])
        var registers = [UInt16](repeating: 0, count: 6)
        registers[0] = 2301
        registers[1] = UInt16(bitPattern: -1234)
        registers[4] = UInt16(bitPattern: -1)
        registers[5] = UInt16(bitPattern: -2)
        let values = plan.decode([registers]).map(\.value)
        #expect(values == [230.1, -12.34])
        registers[5] = 0x8000
        #expect(plan.decode([registers])[1].value.isNaN)

        // A scale register far from its values still gets read.
        let far = Measurand(
            name: "power",
            table: .holdingRegisters,
            address: 100,
            type: .int16,
            unit: "W",
            scaleRegister: 300
        )
        let farPlan = ReadPlanner(maxGap: 4).plan([far])
        #expect(farPlan.requests.map(\.address) == [100, 300])
        #expect(farPlan.decode([[1500], [UInt16(bitPattern: 1)]]).map(\.value) == [15000])
    }

    @Test("the emulator's writes: one exponent per scale register that fits every value sharing it")
    func scaleRegisterWrites() throws {
        let profile = MeterProfile(
            name: "sunspec-like",
            manufacturer: "Test",
            model: "S1",
            measurands: [
                Measurand(
                    name: "power_l1",
                    table: .holdingRegisters,
                    address: 0,
                    type: .int16,
                    unit: "W",
                    scaleRegister: 3
                ),
                Measurand(
                    name: "power_l2",
                    table: .holdingRegisters,
                    address: 1,
                    type: .int16,
                    unit: "W",
                    scaleRegister: 3
                ),
                Measurand(
                    name: "voltage",
                    table: .holdingRegisters,
                    address: 2,
                    type: .uint16,
                    unit: "V",
                    scaleRegister: 4
                ),
                Measurand(
                    name: "frequency",
                    table: .holdingRegisters,
                    address: 5,
                    type: .uint16,
                    unit: "Hz",
                    nan: 0xFFFF
                ),
            ]
        )
        let writes = try profile.registerWrites(for: ["power_l1": 120, "power_l2": 45_000, "voltage": 230.1])
        var bank = [UInt16](repeating: 0, count: 6)
        for write in writes { for (i, v) in write.values.enumerated() { bank[Int(write.address) + i] = v } }
        for write in profile.unavailableWrites(except: ["power_l1", "power_l2", "voltage"]) {
            for (i, v) in write.values.enumerated() { bank[Int(write.address) + i] = v }
        }
        // 45 000 W does not fit an int16 in watts: the shared exponent is 1 (tens of watts).
        #expect(Int16(bitPattern: bank[3]) == 1 && Int16(bitPattern: bank[4]) == -1)
        let decoded = profile.readPlan().decode([bank]).map { ($0.measurand.name, $0.value) }
        #expect(decoded.map(\.0) == ["power_l1", "power_l2", "voltage", "frequency"])
        #expect(decoded[0].1 == 120 && decoded[1].1 == 45_000 && decoded[2].1 == 230.1 && decoded[3].1.isNaN)
    }

    @Test("every shipped profile names its source, and every energy counter its resolution")
    func shippedProfilesAreDocumented() throws {
        for profile in Self.library.profiles.values {
            #expect(profile.source?.isEmpty == false, "\(profile.name) names no source")
            for m in profile.measurands where m.name.contains("energy") && m.unit.hasSuffix("h") {
                #expect(m.resolution != nil, "\(profile.name).\(m.name) has no resolution")
            }
        }
    }
}
