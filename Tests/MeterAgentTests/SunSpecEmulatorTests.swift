import Foundation
import LedgerLite
import ModbusBridge
import OperatorKit
import TestSupport
import Testing

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

/// pysunspec2 (the SunSpec Alliance's own client): scans the device, prints model 1 and the
/// chosen model as JSON, raw and with the scale factors applied.
private let pysunspecScan = """
    import json, sys
    import sunspec2.modbus.client as client
    port, unit, model = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    d = client.SunSpecModbusClientDeviceTCP(slave_id=unit, ipaddr='127.0.0.1', ipport=port, timeout=5)
    try:
        d.scan()
        common = d.models[1][0]
        m = d.models[model][0]
        print(json.dumps({
            "base": d.base_addr,
            "models": [x.model_id for x in d.model_list],
            "common": {k: common.points[k].value for k in ("Mn", "Md", "SN", "Vr", "DA")},
            "raw": {k: p.value for k, p in m.points.items()},
            "scaled": {k: p.cvalue for k, p in m.points.items()},
        }))
    finally:
        d.close()
    """

/// A SunSpec device that GridLedger did not write: pymodbus serves model 1 and model 203, laid
/// out from the SunSpec model files pysunspec2 ships, with known values and scale factors;
/// every other point holds its "not implemented" value.
private let pymodbusSunSpec = """
    import asyncio, json, os, struct, sys
    import sunspec2
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import SimData, SimDevice, DataType

    port, unit = int(sys.argv[1]), int(sys.argv[2])
    models = os.path.join(os.path.dirname(sunspec2.__file__), "models", "json")
    def layout(model_id):
        points = json.load(open(os.path.join(models, "model_%d.json" % model_id)))["group"]["points"]
        offset, table = 0, {}
        for p in points:
            table[p["name"]] = (offset, p)
            offset += int(p["size"])
        return table, offset
    unimpl = {"int16": [0x8000], "sunssf": [0x8000], "uint16": [0xFFFF], "enum16": [0xFFFF],
              "acc32": [0, 0], "uint32": [0xFFFF, 0xFFFF], "bitfield32": [0, 0], "pad": [0x8000]}
    def words(kind, value):
        if kind in ("int16", "sunssf"): return [value & 0xFFFF]
        if kind in ("acc32", "uint32"): return [value >> 16, value & 0xFFFF]
        return [value]
    regs = [0x5375, 0x6E53]
    common, common_len = layout(1)
    block = [0] * common_len
    block[0], block[1] = 1, common_len - 2
    for name, text in (("Mn", "Pymodbus Inc"), ("Md", "Test Meter 203"), ("SN", "PM-1"), ("Vr", "9.9")):
        off, p = common[name]
        data = text.encode().ljust(2 * int(p["size"]), b"\\0")
        block[off:off + int(p["size"])] = [data[i] << 8 | data[i + 1] for i in range(0, len(data), 2)]
    regs += block
    meter, meter_len = layout(203)
    block = [0] * meter_len
    for name, (off, p) in meter.items():
        block[off:off + int(p["size"])] = unimpl.get(p["type"], [0] * int(p["size"]))
    block[0], block[1] = 203, meter_len - 2
    known = {"PhVphA": 2301, "PhVphB": 2298, "PhVphC": 2312, "V_SF": -1, "AphA": 425, "A_SF": -2,
             "Hz": 5002, "Hz_SF": -2, "W": -150, "W_SF": 1, "PF": -95, "PF_SF": 0,
             "TotWhImp": 1234567, "TotWhExp": 8901, "TotWh_SF": 2}
    for name, value in known.items():
        off, p = meter[name]
        block[off:off + int(p["size"])] = words(p["type"], value)
    regs += block + [0xFFFF, 0]
    device = SimDevice(id=unit, simdata=([SimData(0, values=False, datatype=DataType.BITS)],
                                         [SimData(0, values=False, datatype=DataType.BITS)],
                                         [SimData(40000, values=regs, datatype=DataType.REGISTERS)],
                                         [SimData(0, values=0, datatype=DataType.REGISTERS)]))
    async def main():
        server = ModbusTcpServer(device, address=("127.0.0.1", port))
        print("listening", flush=True)
        await server.serve_forever()
    asyncio.run(main())
    """

/// A JSON number as a Double, whether it was written as an integer or not.
private func number(_ value: Any?) -> Double? {
    (value as? NSNumber)?.doubleValue
}

@Suite("SunSpec: emulated, read by pysunspec2; read by us from pymodbus; identify; run", .serialized)
struct SunSpecEmulatorTests {
    static func scan(port: Int, unit: Int, model: Int) throws -> [String: Any] {
        let run = try ProcessRun.script(
            pysunspecScan,
            [String(port), String(unit), String(model)],
            timeout: .seconds(60)
        )
        guard run.status == 0, let data = run.output.split(separator: "\n").last.map({ Data($0.utf8) }),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw ForeignClientFailed(output: run.output + run.errors)
        }
        return object
    }

    struct ForeignClientFailed: Error, CustomStringConvertible {
        var output: String
        var description: String { "the foreign program failed:\n\(output)" }
    }

    @Test("pysunspec2 scans the emulated SunSpec meter and reads the same values as our reader, scale factors applied")
    func pysunspecReadsEmulatedMeter() async throws {
        let running = try RunningTCPBus(meters: [meter("sunspec-203", unit: 3, role: .consumer, seed: 5)])
        let scanned = try Self.scan(port: running.port, unit: 3, model: 203)
        #expect(scanned["base"] as? Int == 40000)
        #expect(scanned["models"] as? [Int] == [1, 203])
        let common = try #require(scanned["common"] as? [String: Any])
        #expect(common["Mn"] as? String == "GridLedger")
        #expect(common["Md"] as? String == "Emulated SunSpec 203")
        #expect(common["DA"] as? Int == 3)
        let raw = try #require(scanned["raw"] as? [String: Any])
        let scaled = try #require(scanned["scaled"] as? [String: Any])
        #expect(raw["ID"] as? Int == 203 && raw["L"] as? Int == 105)
        let voltage = try #require(number(scaled["PhVphA"]))
        #expect((207...253).contains(voltage), "PhVphA \(voltage) V")
        // The scale factor is applied: the raw register is the voltage in tenths of a volt.
        #expect(raw["V_SF"] as? Int == -1)
        #expect(raw["PhVphA"] as? Int == Int((voltage * 10).rounded()))
        let imported = try #require(number(scaled["TotWhImp"]))
        #expect(imported > 0)
        let frequency = try #require(number(scaled["Hz"]))
        #expect((49.9...50.1).contains(frequency))
        #expect(raw["TotVAhImp"] is NSNull, "points the emulator does not implement are 'not implemented'")

        // Our own discovery and reader see the same device (the clock is frozen: same values).
        let client = try ModbusClient(endpoint: .tcp(host: "127.0.0.1", port: running.port), logger: silentLogger)
        let device = try await SunSpecDiscovery(client: client, unit: 3).discover()
        let snapshot = try await MeterReader(client: client, profile: try device.profile(), unit: 3).read()
        #expect(snapshot.value("voltage_l1") == voltage)
        #expect(snapshot.value("energy_import") == imported)
        #expect(snapshot.value("frequency") == frequency)
        #expect(snapshot.value("power") == number(scaled["W"]))
    }

    @Test("pysunspec2 reads the emulated three-phase inverter (103) and the float meter (213) at other bases")
    func pysunspecReadsOtherModels() throws {
        var pv = meter("sunspec-103", unit: 1, role: .pv, seed: 2)
        pv.sunspecBase = 0
        var floatMeter = meter("sunspec-213", unit: 2, role: .consumer, seed: 3)
        floatMeter.sunspecBase = 50000
        let running = try RunningTCPBus(meters: [pv, floatMeter])
        let inverter = try Self.scan(port: running.port, unit: 1, model: 103)
        #expect(inverter["base"] as? Int == 0)
        let inverterValues = try #require(inverter["scaled"] as? [String: Any])
        #expect((number(inverterValues["W"]) ?? 0) > 0, "a PV inverter produces at noon: \(inverterValues)")
        #expect((number(inverterValues["WH"]) ?? 0) > 0)
        let float = try Self.scan(port: running.port, unit: 2, model: 213)
        #expect(float["base"] as? Int == 50000)
        let floatValues = try #require(float["scaled"] as? [String: Any])
        #expect((207...253).contains(number(floatValues["PhVphB"]) ?? 0))
        #expect((number(floatValues["TotWhImp"]) ?? 0) > 0)
    }

    @Test("meter-agent read --sunspec reads a SunSpec device served by pymodbus, with its scale factors")
    func readPymodbusDevice() async throws {
        let binary = try #require(builtBinary("meter-agent"), "meter-agent is built (make test builds it)")
        let port = try LoopbackPort.free()
        let directory = try TempDir(prefix: "sunspec-pymodbus")
        defer { directory.cleanup() }
        let server = try LoggedProcess.python(
            script: pymodbusSunSpec,
            [String(port), "4"],
            log: directory.file("server.log")
        )
        try await waitUntil("pymodbus listens", timeout: .seconds(60)) {
            guard server.process.isRunning else { throw ForeignClientFailed(output: server.logText) }
            return server.logText.contains("listening")
        }
        var run = try ProcessRun.run(
            executable: binary.path,
            ["read", "--tcp", "127.0.0.1:\(port)", "--unit", "4", "--sunspec", "--json", "--timeout", "2s"],
            timeout: .seconds(60)
        )
        for _ in 0..<20 where run.status != 0 && run.errors.contains("connection refused") {
            try await Task.sleep(for: .milliseconds(200))
            run = try ProcessRun.run(
                executable: binary.path,
                ["read", "--tcp", "127.0.0.1:\(port)", "--unit", "4", "--sunspec", "--json", "--timeout", "2s"],
                timeout: .seconds(60)
            )
        }
        #expect(run.status == 0, "\(run.errors)\n\(server.logText)")
        let object = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
        #expect(object?["profile"] as? String == "sunspec-203")
        let values = try #require(object?["values"] as? [String: Any], "\(run.output)")
        #expect(number(values["voltage_l1"]) == 230.1)
        #expect(number(values["voltage_l3"]) == 231.2)
        #expect(number(values["current_l1"]) == 4.25)
        #expect(number(values["frequency"]) == 50.02)
        #expect(number(values["power"]) == -1500, "W -150 × 10^1")
        #expect(number(values["power_factor_total"]) == -0.95, "PF -95 % × 10^0")
        #expect(number(values["energy_import"]) == 123_456_700, "TotWhImp 1234567 × 10^2 Wh")
        #expect(number(values["energy_export"]) == 890_100)
        #expect(values["current_l2"] is NSNull, "not implemented: no value")
        #expect(values["apparent_power"] is NSNull)
    }

    @Test("scan --sunspec prints the models of each SunSpec unit")
    func scanCommand() throws {
        let binary = try #require(builtBinary("meter-agent"))
        let running = try RunningTCPBus(meters: [meter("sunspec-203", unit: 1), meter("sdm630", unit: 2)])
        let run = try ProcessRun.run(
            executable: binary.path,
            ["scan", "--tcp", "127.0.0.1:\(running.port)", "--units", "1-3", "--sunspec", "--timeout", "200ms"],
            timeout: .seconds(60)
        )
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("unit 1: SunSpec map at register 40000: GridLedger Emulated SunSpec 203"))
        #expect(run.output.contains("model 203 at 40070, length 105: ac_meter_abcn"), "\(run.output)")
        #expect(run.output.contains("unit 2: no SunSpec device"), "\(run.output)")
        #expect(!run.output.contains("unit 3:"), "silent units are not listed: \(run.output)")
    }

    @Test("identify names the right map first on a bus of several meters")
    func identify() async throws {
        let running = try RunningTCPBus(
            meters: [
                meter("sdm630", unit: 1), meter("sdm120", unit: 2, seed: 2), meter("em24", unit: 3, seed: 3),
                meter("sunspec-203", unit: 4, seed: 4),
            ]
        )
        let client = try ModbusClient(
            endpoint: .tcp(host: "127.0.0.1", port: running.port),
            options: ClientOptions(responseTimeout: .milliseconds(500), retry: .none),
            logger: silentLogger
        )
        let profiles = Array(testLibrary.profiles.values)
        let expected = ["sdm630", "sdm120", "em24", "sunspec-203"]
        for (index, name) in expected.enumerated() {
            let results = await MeterIdentifier(client: client, unit: UInt8(index + 1), profiles: profiles).identify()
            let best = try #require(results.first)
            #expect(best.fits && best.name == name, "unit \(index + 1): \(results.map { "\($0.name) \($0.verdict)" })")
        }
        // A unit nobody answers for fits nothing, and says why.
        let none = await MeterIdentifier(client: client, unit: 9, profiles: profiles).identify()
        #expect(none.allSatisfy { !$0.fits })
        let report = IdentifyCommand.report(none, unit: 9, endpoint: client.endpoint, verbose: true)
        #expect(report.contains("no known profile fits"))
        #expect(report.contains("ruled out sdm630: no answer"), "\(report)")
    }

    @Test("identify rules out maps whose values are implausible")
    func implausible() throws {
        let measurand = Measurand(name: "voltage_l1", table: .inputRegisters, address: 0, type: .float32, unit: "V")
        let frequency = Measurand(name: "frequency", table: .inputRegisters, address: 2, type: .float32, unit: "Hz")
        let counter = Measurand(name: "energy_import", table: .inputRegisters, address: 4, type: .float32, unit: "kWh")
        func check(_ values: [Double]) -> String? {
            Plausibility.problem(
                in: zip([measurand, frequency, counter], values).map {
                    Measurement(measurand: $0, raw: .float($1), value: $1)
                }
            )
        }
        #expect(check([230.1, 50.01, 12.5]) == nil)
        #expect(check([0, 50.01, 12.5])?.contains("voltage_l1") == true)
        #expect(check([230.1, 0, 12.5])?.contains("frequency") == true)
        #expect(check([230.1, 50, -1])?.contains("negative") == true)
        #expect(check([.nan, 50, 1]) == nil, "an absent voltage passes")
        #expect(check([.nan, .nan, 1]) == "no voltage or frequency to check")
    }

    @Test("run's SunSpec meter is discovered when the device appears, and its readings are signed")
    func runDiscoversLate() async throws {
        let port = try LoopbackPort.free()
        let client = try ModbusClient(
            endpoint: .tcp(host: "127.0.0.1", port: port),
            options: ClientOptions(responseTimeout: .milliseconds(300), retry: .none),
            logger: silentLogger
        )
        let access = SunSpecMeterAccess(client: client, unit: 1, model: nil)
        let standIn = MeterProfile(
            name: "sunspec",
            manufacturer: "SunSpec",
            model: "not discovered yet",
            measurands: []
        )
        let polled = PolledMeter(
            sunspec: access,
            reader: MeterReader(client: client, profile: standIn, unit: 1),
            factory: ReadingFactory(profile: standIn),
            identity: TestKeys.meter
        )
        await #expect(throws: (any Error).self, "nothing serves yet") { try await polled.read() }
        let fleet = FleetConfig(
            start: Date(timeIntervalSince1970: 1_782_043_200),
            speed: 0,
            buses: [
                FleetConfig.Bus(
                    transport: .tcp(host: "127.0.0.1", port: port),
                    wireTiming: false,
                    faults: .none,
                    meters: [meter("sunspec-201", unit: 1)]
                )
            ]
        )
        let bus = try Emulator(fleet: fleet, library: testLibrary, logger: silentLogger).makeBuses()[0]
        try bus.server.start()
        defer { bus.server.stop() }
        let (snapshot, factory) = try await polled.read()
        #expect(snapshot.profile == "sunspec-201")
        let reading = try factory.reading(
            from: snapshot,
            meter: TestKeys.meter.id,
            gateway: GatewayID(high: 7, low: 7),
            sequence: 1
        )
        #expect((reading[.energyImportWh] ?? 0) > 0)
        #expect((2070...2530).contains(reading[.voltageL1dV] ?? 0))
        #expect(reading[.voltageL2dV] == nil, "a single-phase meter has no phase 2")
    }

    @Test("meter-agent run polls a SunSpec meter with no profile, discovered once the device answers")
    func runCommand() async throws {
        let binary = try #require(builtBinary("meter-agent"))
        let directory = try TempDir(prefix: "sunspec-run")
        defer { directory.cleanup() }
        let keygen = try ProcessRun.run(
            executable: binary.path,
            ["keygen", "--out", directory.file("pv.key")],
            timeout: .seconds(60)
        )
        #expect(keygen.status == 0, "\(keygen.errors)")
        let port = try LoopbackPort.free()
        try """
        gateway: http://127.0.0.1:1
        gateway-id: 0123456789abcdef0123456789abcdef
        data: data
        interval: 200ms
        buses:
          - tcp: 127.0.0.1:\(port)
            meters:
              - { unit: 2, profile: sunspec, key: pv.key, role: producer }
        """.write(toFile: directory.file("agent.yaml"), atomically: true, encoding: .utf8)
        let agent = try LoggedProcess(
            executable: binary.path,
            ["run", "--config", directory.file("agent.yaml"), "--timeout", "200ms", "--log-level", "trace"],
            log: directory.file("agent.log")
        )
        try await waitUntil("the agent says discovery failed") {
            guard agent.process.isRunning else { throw ForeignClientFailed(output: agent.logText) }
            return agent.logText.contains("SunSpec discovery failed; trying again before each poll")
        }
        #expect(!agent.logText.contains("reading stored"), "no reading without a device")

        // The inverter appears: the agent discovers it and stores signed readings.
        let fleet = FleetConfig(
            start: Date(timeIntervalSince1970: 1_782_043_200),
            speed: 0,
            buses: [
                FleetConfig.Bus(
                    transport: .tcp(host: "127.0.0.1", port: port),
                    wireTiming: false,
                    faults: .none,
                    meters: [meter("sunspec-101", unit: 2, role: .pv)]
                )
            ]
        )
        let bus = try Emulator(fleet: fleet, library: testLibrary, logger: silentLogger).makeBuses()[0]
        try bus.server.start()
        defer { bus.server.stop() }
        try await waitUntil("readings stored") {
            agent.logText.components(separatedBy: "reading stored").count > 2
        }
        #expect(agent.stop() == 0, "\(agent.logText)")
    }

    @Test("every SunSpec model the emulator presents is discovered and read back plausible, in one request")
    func everyModel() async throws {
        let models = SunSpecImage.models
        #expect(models == [101, 102, 103, 111, 112, 113, 201, 202, 203, 204, 211, 212, 213, 214])
        let running = try RunningTCPBus(
            meters: models.enumerated().map { index, model in
                let producer = SunSpecModelDefinition.kind(of: model) == .inverter
                return meter("sunspec-\(model)", unit: UInt8(index + 1), role: producer ? .pv : .consumer)
            }
        )
        let client = try ModbusClient(endpoint: .tcp(host: "127.0.0.1", port: running.port), logger: silentLogger)
        for (index, model) in models.enumerated() {
            let unit = UInt8(index + 1)
            let device = try await SunSpecDiscovery(client: client, unit: unit).discover()
            #expect(device.models.map(\.id) == [1, model])
            let profile = try device.profile()
            let snapshot = try await MeterReader(client: client, profile: profile, unit: unit).read()
            #expect(snapshot.requests == 1, "sunspec-\(model)")
            #expect(Plausibility.problem(in: snapshot.measurements) == nil, "sunspec-\(model)")
            #expect((207...253).contains(snapshot.value("voltage_l1") ?? 0), "sunspec-\(model)")
            let inverter = SunSpecModelDefinition.kind(of: model) == .inverter
            let counter = try #require(snapshot.value(inverter ? "energy_export" : "energy_import"), "sunspec-\(model)")
            #expect(counter > 0, "sunspec-\(model)")
            if inverter {
                #expect((snapshot.value("power") ?? 0) < 0, "sunspec-\(model): a PV inverter exports at noon")
            }
            let three = [103, 113, 203, 204, 213, 214].contains(model)
            #expect((snapshot.value("voltage_l3")?.isFinite ?? false) == three, "sunspec-\(model)")
        }
    }

    @Test("the agent file takes profile: sunspec, and the fleet file sunspec: ID")
    func configFiles() throws {
        let directory = try TempDir(prefix: "sunspec-config")
        defer { directory.cleanup() }
        let fleet = directory.file("fleet.yaml")
        try """
        buses:
          - tcp: 127.0.0.1:0
            meters:
              - { sunspec: 203, unit: 1, role: consumer }
              - { sunspec: 101, unit: 2, role: pv, sunspec-base: 50000 }
              - { profile: sunspec-214, unit: 3 }
        """.write(toFile: fleet, atomically: true, encoding: .utf8)
        let config = try FleetFile.load(path: fleet)
        #expect(config.buses[0].meters.map(\.profile) == ["sunspec-203", "sunspec-101", "sunspec-214"])
        #expect(config.buses[0].meters.map(\.sunspecBase) == [40000, 50000, 40000])
        try """
        buses:
          - tcp: 127.0.0.1:0
            meters:
              - { sunspec: 1, unit: 1 }
        """.write(toFile: fleet, atomically: true, encoding: .utf8)
        #expect(throws: ConfigFileError.self) { try FleetFile.load(path: fleet) }
        do {
            _ = try FleetFile.load(path: fleet)
        } catch {
            #expect("\(error)".contains("cannot be emulated"), "\(error)")
        }

        let agent = directory.file("agent.yaml")
        try """
        gateway: http://127.0.0.1:8080
        data: data
        buses:
          - tcp: 127.0.0.1:502
            meters:
              - { unit: 1, profile: sunspec, key: house.key }
              - { unit: 2, profile: sunspec-103, key: pv.key, role: producer }
        """.write(toFile: agent, atomically: true, encoding: .utf8)
        let agentConfig = try AgentFile.load(path: agent)
        let profiles = agentConfig.buses[0].meters.map(\.profile)
        #expect(profiles.map(SunSpecMeterAccess.model(inProfileName:)) == [.some(nil), .some(103)])
        #expect(SunSpecMeterAccess.model(inProfileName: "sdm630") == nil)
    }
}
