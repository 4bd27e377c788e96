/// The type of a point in a SunSpec information model.
public enum SunSpecPointType: String, Sendable, Hashable {
    case int16, uint16, count, acc16, enum16, bitfield16
    case int32, uint32, acc32, enum32, bitfield32
    case int64, uint64, acc64
    case float32, float64
    case string, sunssf, pad

    /// How our codec decodes the point, or nil for strings.
    public var dataType: DataType? {
        switch self {
        case .int16, .sunssf: .int16
        case .uint16, .count, .acc16, .enum16, .bitfield16, .pad: .uint16
        case .int32: .int32
        case .uint32, .acc32, .enum32, .bitfield32: .uint32
        case .int64: .int64
        case .uint64, .acc64: .uint64
        case .float32: .float32
        case .float64: .float64
        case .string: nil
        }
    }

    /// The raw bits a device sends for a point it does not implement (SunSpec's "not
    /// implemented" values): 0x8000 for int16 and scale factors, all ones for unsigned and
    /// enumerated types, 0 for accumulators (an accumulator at 0 accumulates nothing), a quiet
    /// NaN for floats.
    public var notImplemented: UInt64 {
        switch self {
        case .int16, .sunssf: 0x8000
        case .uint16, .count, .enum16, .bitfield16: 0xFFFF
        case .int32: 0x8000_0000
        case .uint32, .enum32, .bitfield32: 0xFFFF_FFFF
        case .int64: 0x8000_0000_0000_0000
        case .uint64: 0xFFFF_FFFF_FFFF_FFFF
        case .acc16, .acc32, .acc64, .pad, .string: 0
        case .float32: 0x7FC0_0000
        case .float64: 0x7FF8_0000_0000_0000
        }
    }
}

/// One point of a SunSpec model: its place in the model and how it is encoded.
public struct SunSpecPoint: Sendable, Hashable {
    /// The model's name for it, e.g. `PhVphA`.
    public var name: String
    /// Registers from the model's first register (its ID) to the point.
    public var offset: Int
    public var type: SunSpecPointType
    /// Registers it occupies.
    public var size: Int
    /// SunSpec's unit: `V`, `A`, `W`, `Wh`, `Hz`, `Pct`, …
    public var units: String?
    /// The name of the model's scale-factor point that scales it (int models).
    public var scaleFactor: String?
    /// True when every device of the model must implement it.
    public var mandatory: Bool

    public init(
        name: String,
        offset: Int,
        type: SunSpecPointType,
        size: Int,
        units: String? = nil,
        scaleFactor: String? = nil,
        mandatory: Bool = false
    ) {
        self.name = name
        self.offset = offset
        self.type = type
        self.size = size
        self.units = units
        self.scaleFactor = scaleFactor
        self.mandatory = mandatory
    }
}

/// A SunSpec information model's fixed block: its id, length and points.
public struct SunSpecModelDefinition: Sendable, Hashable {
    public var id: UInt16
    /// SunSpec's short name, e.g. `ac_meter_abcn`.
    public var name: String
    /// SunSpec's label for people.
    public var label: String
    /// The model's length as its `L` register states it: registers after `ID` and `L`.
    public var length: Int
    public var points: [SunSpecPoint]

    public init(id: UInt16, name: String, label: String, length: Int, points: [SunSpecPoint]) {
        self.id = id
        self.name = name
        self.label = label
        self.length = length
        self.points = points
    }

    /// The point called `name`.
    public func point(named name: String) -> SunSpecPoint? {
        points.first { $0.name == name }
    }

    /// What a model is to a meter reader.
    public enum Kind: Sendable, Hashable {
        case common, inverter, meter, other
    }

    /// Common (1), inverter (101–103, 111–113), meter (201–204, 211–214), or another model.
    public static func kind(of id: UInt16) -> Kind {
        switch id {
        case 1: .common
        case 101...103, 111...113: .inverter
        case 201...204, 211...214: .meter
        default: .other
        }
    }

    /// Phases the model describes: one for single-phase and split-phase models (read as phase 1), three for
    /// three-phase models.
    public var emulatedPhases: Int {
        switch id {
        case 103, 113, 203, 204, 213, 214: 3
        default: 1
        }
    }
}

/// The SunSpec marker at the base address: `SunS` in two registers.
public enum SunSpecMarker {
    public static let registers: [UInt16] = [0x5375, 0x6E53]
    /// The model id that ends the chain.
    public static let endModelID: UInt16 = 0xFFFF
    /// Where devices put the marker, in the order readers try them.
    public static let bases: [UInt16] = [40000, 0, 50000]
}
