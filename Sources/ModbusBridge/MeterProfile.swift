/// One quantity a meter exposes: where it lives and how it is encoded.
public struct Measurand: Sendable, Hashable, Codable {
    /// Identifier used in output and configuration, e.g. `voltage_l1`.
    public var name: String
    /// OBIS code (IEC 62056-61), e.g. `1-0:32.7.0`, where one exists.
    public var obis: String?
    /// The register table the value is read from.
    public var table: RegisterTable
    /// Address of the first register (0-based, as on the wire).
    public var address: UInt16
    /// How the registers encode the value.
    public var type: DataType
    /// Word and byte order of multi-register values.
    public var order: WordOrder
    /// Multiplier from the raw value to `unit` (e.g. 0.1 for a register in tenths of a volt).
    public var scale: Double
    /// Unit of the scaled value: V, A, W, kWh, Hz, …
    public var unit: String
    /// Free text for people.
    public var description: String?

    public init(
        name: String,
        obis: String? = nil,
        table: RegisterTable,
        address: UInt16,
        type: DataType,
        order: WordOrder = .ABCD,
        scale: Double = 1,
        unit: String,
        description: String? = nil
    ) {
        self.name = name
        self.obis = obis
        self.table = table
        self.address = address
        self.type = type
        self.order = order
        self.scale = scale
        self.unit = unit
        self.description = description
    }

    /// Registers the value occupies.
    public var registerCount: Int { type.registerCount }
    /// One past the last register.
    public var endAddress: Int { Int(address) + registerCount }

    /// Decodes the scaled value from exactly `registerCount` registers.
    public func decode(_ registers: ArraySlice<UInt16>) -> (raw: RawValue, value: Double) {
        let raw = RegisterCodec.decode(registers, as: type, order: order)
        let value = raw.doubleValue * scale
        guard type == .float32, value.isFinite else { return (raw, value) }
        // A float32 carries about 7 significant digits: 230.1 arrives as 230.1000061….
        // Use the shortest decimal that reads back as the same float32, as people expect.
        let single = Float(value)
        return (raw, Double(single.description) ?? Double(single))
    }

    /// Encodes a scaled value (in `unit`) into registers, the inverse of `decode`.
    /// Integer types round to the nearest step of `scale`.
    public func encode(_ value: Double) throws(RegisterCodecError) -> [UInt16] {
        let raw = value / scale
        if type.isFloatingPoint {
            return try RegisterCodec.encode(.float(raw), as: type, order: order)
        }
        return try RegisterCodec.encode(.float(raw.rounded()), as: type, order: order)
    }
}

/// The factory serial settings of a meter.
public struct SerialDefaults: Sendable, Hashable, Codable {
    public var baud: Int
    public var parity: Parity
    public var dataBits: Int
    public var stopBits: Int

    public init(baud: Int = 9600, parity: Parity = .none, dataBits: Int = 8, stopBits: Int = 1) {
        self.baud = baud
        self.parity = parity
        self.dataBits = dataBits
        self.stopBits = stopBits
    }

    /// As full serial settings (no RS-485 ioctl, no RTS control).
    public var settings: SerialSettings {
        SerialSettings(baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits)
    }
}

/// A meter model's register map and bus habits, loaded from `hardware/meters/NAME.yaml`.
public struct MeterProfile: Sendable, Hashable, Codable {
    /// Short identifier used on the command line, e.g. `sdm630`.
    public var name: String
    public var manufacturer: String
    public var model: String
    public var description: String?
    /// The meter's factory serial settings.
    public var serial: SerialDefaults
    /// The largest register count the meter answers in one request (Modbus allows 125).
    public var maxRegistersPerRequest: Int
    /// Unused registers a read may span to join two measurands into one request.
    public var maxGap: Int
    /// Every quantity the meter exposes.
    public var measurands: [Measurand]
    /// The Modbus function codes the meter's firmware implements (e.g. 3, 4 and 16 on an
    /// Eastron), or nil when the profile does not say. An emulated meter answers any other
    /// function with exception 01 ILLEGAL FUNCTION, as the firmware does.
    public var functions: Set<UInt8>?

    public init(
        name: String,
        manufacturer: String,
        model: String,
        description: String? = nil,
        serial: SerialDefaults = SerialDefaults(),
        maxRegistersPerRequest: Int = 125,
        maxGap: Int = 8,
        measurands: [Measurand],
        functions: Set<UInt8>? = nil
    ) {
        self.name = name
        self.manufacturer = manufacturer
        self.model = model
        self.description = description
        self.serial = serial
        self.maxRegistersPerRequest = maxRegistersPerRequest
        self.maxGap = maxGap
        self.measurands = measurands
        self.functions = functions
    }

    /// The measurand with this name.
    public func measurand(named name: String) -> Measurand? {
        measurands.first { $0.name == name }
    }

    /// The read plan for all measurands (or the named subset).
    public func readPlan(only names: Set<String>? = nil) -> ReadPlan {
        let chosen = names.map { names in measurands.filter { names.contains($0.name) } } ?? measurands
        return ReadPlanner(maxRegistersPerRequest: maxRegistersPerRequest, maxGap: maxGap).plan(chosen)
    }
}
