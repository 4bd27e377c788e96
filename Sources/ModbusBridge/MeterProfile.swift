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
    /// The raw bits (the type's width, word and byte order undone) the meter sends when the
    /// value is not available, e.g. ABB's all-ones; decoded as NaN.
    public var nan: UInt64?
    /// For a counter, the smallest step it moves, in `unit` (e.g. 0.01 kWh); nil when the
    /// profile does not say.
    public var resolution: Double?
    /// Address of an int16 register in the same table holding a power-of-ten exponent
    /// (SunSpec's scale factors): the value is raw × `scale` × 10^exponent.
    public var scaleRegister: UInt16?

    /// True when the value's exponent is in a scale register.
    public var hasScaleRegister: Bool { scaleRegister != nil }

    /// Powers of ten a scale register may hold: SunSpec's range.
    public static let scaleExponents: ClosedRange<Int> = -10...10

    public init(
        name: String,
        obis: String? = nil,
        table: RegisterTable,
        address: UInt16,
        type: DataType,
        order: WordOrder = .ABCD,
        scale: Double = 1,
        unit: String,
        description: String? = nil,
        nan: UInt64? = nil,
        resolution: Double? = nil,
        scaleRegister: UInt16? = nil
    ) {
        self.nan = nan
        self.resolution = resolution
        self.scaleRegister = scaleRegister
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

    /// Decodes the scaled value from exactly `registerCount` registers; `exponent` is the
    /// value of the scale register, when the measurand has one. NaN when the registers hold
    /// the `nan` sentinel, or the exponent is outside `scaleExponents` (SunSpec's
    /// "not implemented" 0x8000 among them).
    public func decode(_ registers: ArraySlice<UInt16>, exponent: Int16? = nil) -> (raw: RawValue, value: Double) {
        let raw = RegisterCodec.decode(registers, as: type, order: order)
        if let nan, RegisterCodec.bits(registers, order: order) == nan { return (raw, .nan) }
        var factor = scale
        if scaleRegister != nil {
            guard let exponent, Self.scaleExponents.contains(Int(exponent)) else { return (raw, .nan) }
            factor *= Self.powerOfTen(Int(exponent))
        }
        // 2301 × 0.1 is 230.10000000000002; 2301 / 10 is 230.1, as people expect.
        let divisor = 1 / factor
        let value =
            abs(divisor) >= 1 && abs(divisor - divisor.rounded()) < 1e-9 * abs(divisor)
            ? raw.doubleValue / divisor.rounded() : raw.doubleValue * factor
        guard type == .float32, value.isFinite else { return (raw, value) }
        // A float32 carries about 7 significant digits: 230.1 arrives as 230.1000061….
        // Use the shortest decimal that reads back as the same float32, as people expect.
        let single = Float(value)
        return (raw, Double(single.description) ?? Double(single))
    }

    /// Encodes a scaled value (in `unit`) into registers, the inverse of `decode`.
    /// Integer types round to the nearest step of `scale` (× 10^`exponent` with a scale
    /// register).
    public func encode(_ value: Double, exponent: Int16 = 0) throws(RegisterCodecError) -> [UInt16] {
        let raw = value / scale / (scaleRegister == nil ? 1 : Self.powerOfTen(Int(exponent)))
        if type.isFloatingPoint {
            return try RegisterCodec.encode(.float(raw), as: type, order: order)
        }
        return try RegisterCodec.encode(.float(raw.rounded()), as: type, order: order)
    }

    /// The registers of the `nan` sentinel, if the measurand has one.
    public func unavailable() -> [UInt16]? {
        nan.map { RegisterCodec.registers(bits: $0, count: registerCount, order: order) }
    }

    /// 10^exponent, exact for the exponents a scale register may hold.
    static func powerOfTen(_ exponent: Int) -> Double {
        exponent >= 0
            ? (0..<exponent).reduce(1.0) { value, _ in value * 10 }
            : 1 / (0..<(-exponent)).reduce(1.0) { value, _ in value * 10 }
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
    /// Every model this register map covers (`model` among them).
    public var models: [String]
    /// Where the register map comes from: the vendor's documentation, or a published open map.
    public var source: String?
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
        models: [String] = [],
        source: String? = nil,
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
        self.models = models.contains(model) ? models : [model] + models
        self.source = source
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
