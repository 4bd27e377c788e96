import Synchronization
import TestSupport
import Testing

@testable import ModbusBridge

/// A device's holding registers in memory, for discovery without a bus: reads outside
/// `registers` get exception 02, or silence.
final class FakeSunSpecDevice: Sendable {
    let registers: [Int: UInt16]
    let silent: Bool
    let reads = Atomic<Int>(0)

    init(_ registers: [Int: UInt16], silent: Bool = false) {
        self.registers = registers
        self.silent = silent
    }

    /// A device holding `writes`.
    convenience init(writes: [RegisterWrite]) {
        var registers: [Int: UInt16] = [:]
        for write in writes {
            for (offset, value) in write.values.enumerated() { registers[Int(write.address) + offset] = value }
        }
        self.init(registers)
    }

    var discovery: SunSpecDiscovery {
        SunSpecDiscovery { address, count throws(ModbusError) in
            self.reads.add(1, ordering: .relaxed)
            if self.silent {
                throw ModbusError(kind: .timeout, message: "Connection timed out", operation: "read")
            }
            var words: [UInt16] = []
            for index in Int(address)..<Int(address) + count {
                guard let word = self.registers[index] else {
                    throw ModbusError(
                        kind: .exception(.illegalDataAddress),
                        message: "Illegal data address",
                        operation: "read \(count) holding registers at \(address)"
                    )
                }
                words.append(word)
            }
            return words
        }
    }
}

/// A SunSpec device of `model` at `base` holding `values` (by our measurand names).
func sunspecWrites(model: UInt16, base: UInt16 = 40000, values: [String: Double]) throws -> [RegisterWrite] {
    let image = try SunSpecImage(model: model, base: base)
    let common = SunSpecCommon(manufacturer: "Acme", model: "Meter 3000", version: "2.1", serialNumber: "SN-42")
    return image.fixedWrites(common: common, unit: 1) + (try image.profile.registerWrites(for: values))
}

let meterValues: [String: Double] = [
    "voltage_l1": 230.1, "voltage_l2": 229.8, "voltage_l3": 231.2, "current_l1": 4.25, "frequency": 50.02,
    "power": 1485, "energy_import": 1_234_567, "energy_export": 8901, "power_factor_total": 0.95,
]

@Suite("SunSpec discovery and scale factors")
struct SunSpecTests {
    @Test("the generated models have the lengths SunSpec states")
    func modelLengths() throws {
        let expected: [UInt16: Int] = [
            1: 66, 101: 50, 102: 50, 103: 50, 111: 60, 112: 60, 113: 60,
            201: 105, 202: 105, 203: 105, 204: 105, 211: 124, 212: 124, 213: 124, 214: 124,
        ]
        for (id, length) in expected {
            let model = try #require(SunSpecModelDefinition.known[id], "model \(id)")
            #expect(model.length == length, "model \(id)")
            let last = try #require(model.points.last)
            #expect(last.offset + last.size == length + 2, "model \(id): points fill the model")
        }
        let w = try #require(SunSpecModelDefinition.known[203]?.point(named: "W"))
        #expect(w.offset == 18 && w.type == .int16 && w.scaleFactor == "W_SF")
    }

    @Test("discovery walks marker, common model, meter model and end marker")
    func chain() async throws {
        let device = FakeSunSpecDevice(writes: try sunspecWrites(model: 203, values: meterValues))
        let found = try await device.discovery.discover()
        #expect(found.base == 40000)
        #expect(found.models.map(\.id) == [1, 203])
        #expect(found.models.map(\.address) == [40002, 40070])
        #expect(found.models.map(\.length) == [66, 105])
        #expect(found.endMarker)
        #expect(
            found.common
                == SunSpecCommon(manufacturer: "Acme", model: "Meter 3000", version: "2.1", serialNumber: "SN-42")
        )
        let profile = try found.profile()
        #expect(profile.name == "sunspec-203")
        #expect(profile.manufacturer == "Acme")
        let voltage = try #require(profile.measurand(named: "voltage_l1"))
        #expect(voltage.address == 40070 + 8 && voltage.scaleRegister == 40070 + 15 && voltage.obis == "1-0:32.7.0")
        let energy = try #require(profile.measurand(named: "energy_import"))
        #expect(energy.type == .uint32 && energy.scaleRegister == 40070 + 54 && energy.obis == "1-0:1.8.0")
    }

    @Test("discovery finds the marker at 0 and at 50000 too")
    func otherBases() async throws {
        for base: UInt16 in [0, 50000] {
            let device = FakeSunSpecDevice(writes: try sunspecWrites(model: 213, base: base, values: meterValues))
            let found = try await device.discovery.discover()
            #expect(found.base == base)
            #expect(found.models.map(\.id) == [1, 213])
        }
    }

    @Test("a device without the marker is no SunSpec device, and the error says what each base answered")
    func missingMarker() async throws {
        let device = FakeSunSpecDevice([0: 0x1234, 1: 0x5678])
        await #expect {
            try await device.discovery.discover()
        } throws: { error in
            guard case SunSpecError.noMarker(let answers) = error else { return false }
            return answers[40000]?.contains("ILLEGAL DATA ADDRESS") == true && answers[0] == "answered 0x1234 0x5678"
                && "\(error)".contains("no 'SunS' marker")
        }
    }

    @Test("a silent unit is a bus error, not a missing marker")
    func silence() async throws {
        let device = FakeSunSpecDevice([:], silent: true)
        await #expect {
            try await device.discovery.discover()
        } throws: { error in
            guard case SunSpecError.bus(let busError) = error else { return false }
            return busError.kind == .timeout
        }
    }

    @Test("a model whose length runs past register 65535 ends discovery with an error")
    func overlongLength() async throws {
        let device = FakeSunSpecDevice([40000: 0x5375, 40001: 0x6E53, 40002: 1, 40003: 0xFFF0])
        await #expect {
            try await device.discovery.discover()
        } throws: { error in
            guard case SunSpecError.modelRunsPast(id: 1, address: 40002, length: 0xFFF0) = error else { return false }
            return "\(error)".contains("runs past register 65535")
        }
    }

    @Test("a chain that never ends stops after a bounded number of models")
    func endlessChain() async throws {
        // Every header says: model 300, no registers; the next one is two registers on, for ever.
        var registers: [Int: UInt16] = [40000: 0x5375, 40001: 0x6E53]
        for address in stride(from: 40002, to: 0x10000 - 1, by: 2) {
            registers[address] = 300
            registers[address + 1] = 0
        }
        let device = FakeSunSpecDevice(registers)
        await #expect(throws: SunSpecError.self) { try await device.discovery.discover() }
        #expect(device.reads.load(ordering: .relaxed) <= SunSpecDiscovery.maxModels + 3)
        do {
            _ = try await device.discovery.discover()
        } catch {
            guard case .tooManyModels = error else {
                Issue.record("expected tooManyModels, got \(error)")
                return
            }
        }
    }

    @Test("a chain that reaches the last register without an end marker ends with an error")
    func chainToTheTop() async throws {
        var registers: [Int: UInt16] = [40000: 0x5375, 40001: 0x6E53, 40002: 1, 40003: 25531]
        registers[65535] = 0xFFFF
        let device = FakeSunSpecDevice(registers)
        await #expect(throws: SunSpecError.self) { try await device.discovery.discover() }
    }

    @Test("a device that ends its map without an end marker keeps the models found")
    func noEndMarker() async throws {
        let writes = try sunspecWrites(model: 203, values: meterValues)
        var device = FakeSunSpecDevice(writes: writes)
        var registers = device.registers
        registers[40070 + 107] = nil
        registers[40070 + 108] = nil
        device = FakeSunSpecDevice(registers)
        let found = try await device.discovery.discover()
        #expect(found.models.map(\.id) == [1, 203])
        #expect(!found.endMarker)
    }

    @Test("a device with no meter or inverter model has nothing to read")
    func noReadableModel() throws {
        let device = SunSpecDevice(
            base: 40000,
            models: [
                SunSpecModelHeader(id: 1, address: 40002, length: 66), .init(id: 120, address: 40070, length: 26),
            ],
            common: nil,
            endMarker: true
        )
        #expect(throws: SunSpecError.self) { try device.profile() }
        #expect(device.readableModel() == nil)
    }

    @Test("scale factors: value × 10^SF; SF outside -10…10 or 'not implemented' leaves the value out")
    func scaleFactors() throws {
        let model = try #require(SunSpecModelDefinition.known[203])
        let measurands = model.measurands(at: 40070)
        let voltage = try #require(measurands.first { $0.name == "voltage_l1" })
        #expect(voltage.decode([2301], exponent: -1).value == 230.1)
        #expect(voltage.decode([23], exponent: 1).value == 230)
        #expect(voltage.decode([2301], exponent: Int16(bitPattern: 0x8000)).value.isNaN)
        #expect(voltage.decode([2301], exponent: 11).value.isNaN)
        #expect(voltage.decode([2301], exponent: nil).value.isNaN)
        #expect(voltage.decode([0x8000], exponent: -1).value.isNaN, "int16 not implemented")
        let energy = try #require(measurands.first { $0.name == "energy_import" })
        #expect(energy.decode([0x0001, 0x0000], exponent: 3).value == 65_536_000)
        #expect(energy.decode([0xFFFF, 0xFFFF], exponent: 10).value == 4_294_967_295e10)
        #expect(energy.decode([0, 0], exponent: 0).value.isNaN, "acc32 not implemented: 0")
        let powerFactor = try #require(measurands.first { $0.name == "power_factor_total" })
        #expect(powerFactor.decode([95], exponent: 0).value == 0.95, "Pct")
        #expect(powerFactor.decode([9500], exponent: -2).value == 0.95)
        let float = try #require(SunSpecModelDefinition.known[213]).measurands(at: 40070)
        let floatVoltage = try #require(float.first { $0.name == "voltage_l1" })
        #expect(floatVoltage.scaleRegister == nil)
        #expect(floatVoltage.decode([0x7FC0, 0x0000]).value.isNaN)
    }

    @Test("an inverter's output is export: W turns into negative power, WH into the export counter")
    func inverterSigns() throws {
        let measurands = try #require(SunSpecModelDefinition.known[103]).measurands(at: 40070)
        let power = try #require(measurands.first { $0.name == "power" })
        #expect(power.decode([2500], exponent: 0).value == -2500)
        #expect(measurands.contains { $0.name == "energy_export" && $0.obis == "1-0:2.8.0" })
        #expect(!measurands.contains { $0.name == "energy_import" })
    }

    @Test("a model shorter than its definition reads only the points within its length")
    func shortModel() throws {
        let measurands = try #require(SunSpecModelDefinition.known[203]).measurands(at: 40070, length: 20)
        #expect(measurands.contains { $0.name == "voltage_l1" })
        #expect(!measurands.contains { $0.name == "power" }, "W_SF is beyond the stated length")
        #expect(!measurands.contains { $0.name == "energy_import" })
    }

    @Test("an emulated device's scale factor grows until every value it scales fits its register")
    func emulatedScaleFactors() throws {
        let image = try SunSpecImage(model: 203)
        let writes = try image.profile.registerWrites(for: ["power": 50_000, "power_l1": 400, "voltage_l1": 230.1])
        var registers: [Int: UInt16] = [:]
        for write in writes {
            for (offset, value) in write.values.enumerated() { registers[Int(write.address) + offset] = value }
        }
        let model = image.modelAddress
        #expect(registers[Int(model) + 22].map { Int16(bitPattern: $0) } == 1, "W_SF: 50 kW does not fit an int16 in W")
        #expect(registers[Int(model) + 18].map { Int16(bitPattern: $0) } == 5000)
        #expect(registers[Int(model) + 19].map { Int16(bitPattern: $0) } == 40, "WphA shares W_SF")
        #expect(registers[Int(model) + 15].map { Int16(bitPattern: $0) } == -1, "V_SF: tenths of a volt")
    }

    @Test("a served SunSpec device is discovered and read through libmodbus with its scale factors")
    func servedDevice() async throws {
        let image = try SunSpecImage(model: 203)
        let bank = try RegisterBank(layout: image.layout)
        try bank.apply(try sunspecWrites(model: 203, values: meterValues))
        let server = try ModbusTCPServer(port: 0, units: [7: bank], options: ServerOptions(logger: quietLogger))
        try server.start()
        defer { server.stop() }
        let client = try ModbusClient(endpoint: .tcp(host: "127.0.0.1", port: server.port), logger: quietLogger)
        let device = try await SunSpecDiscovery(client: client, unit: 7).discover()
        let profile = try device.profile()
        let snapshot = try await MeterReader(client: client, profile: profile, unit: 7).read()
        #expect(snapshot.requests == 1, "one model, one request")
        for (name, value) in meterValues {
            #expect(expectClose(snapshot.value(name), value), "\(name): \(String(describing: snapshot.value(name)))")
        }
        #expect(snapshot.value("current_l2")?.isNaN == true, "not implemented: absent")
        // The served scale factors are what SunSpec devices use: 0.1 V, 0.01 A, 1 W, 1 Wh.
        let raw = try bank.registers(.holdingRegisters, at: 40070 + 15, count: 1)
        #expect(Int16(bitPattern: raw[0]) == -1)
    }
}
