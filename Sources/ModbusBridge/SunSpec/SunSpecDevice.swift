/// One model found in a SunSpec device's chain.
public struct SunSpecModelHeader: Sendable, Hashable {
    public var id: UInt16
    /// Address of its `ID` register.
    public var address: UInt16
    /// Its `L` register: the registers after `ID` and `L`.
    public var length: Int

    public init(id: UInt16, address: UInt16, length: Int) {
        self.id = id
        self.address = address
        self.length = length
    }

    /// Its definition, for the models we know.
    public var definition: SunSpecModelDefinition? { SunSpecModelDefinition.known[id] }
}

/// What the common model (1) says about the device.
public struct SunSpecCommon: Sendable, Hashable {
    public var manufacturer: String
    public var model: String
    public var version: String
    public var serialNumber: String

    public init(manufacturer: String, model: String, version: String, serialNumber: String) {
        self.manufacturer = manufacturer
        self.model = model
        self.version = version
        self.serialNumber = serialNumber
    }
}

/// A SunSpec device as discovery found it: where its map starts and its chain of models.
public struct SunSpecDevice: Sendable, Hashable {
    /// Address of the `SunS` marker.
    public var base: UInt16
    public var models: [SunSpecModelHeader]
    /// From the first common model, if the device has one.
    public var common: SunSpecCommon?
    /// False when the chain stopped at an address the device does not answer, before an end marker.
    public var endMarker: Bool

    public init(base: UInt16, models: [SunSpecModelHeader], common: SunSpecCommon?, endMarker: Bool) {
        self.base = base
        self.models = models
        self.common = common
        self.endMarker = endMarker
    }

    /// The model a meter reader reads: the first meter model (201–204, 211–214), else the first
    /// inverter model (101–103, 111–113); `id` picks one.
    public func readableModel(id: UInt16? = nil) -> SunSpecModelHeader? {
        let candidates = models.filter { header in
            header.definition != nil && (id.map { header.id == $0 } ?? true)
        }
        return candidates.first { SunSpecModelDefinition.kind(of: $0.id) == .meter }
            ?? candidates.first { SunSpecModelDefinition.kind(of: $0.id) == .inverter }
    }

    /// A profile reading the chosen model (`readableModel(id:)`), named `sunspec-ID`, with
    /// the common model's manufacturer and model: the planner, the reader and the reading
    /// factory work with it as with a hand-written one.
    public func profile(model id: UInt16? = nil) throws(SunSpecError) -> MeterProfile {
        guard let header = readableModel(id: id), let definition = header.definition else {
            throw .noReadableModel(
                found: models.map(\.id),
                asked: id
            )
        }
        let measurands = definition.measurands(at: header.address, length: header.length)
        guard !measurands.isEmpty else {
            throw .noReadableModel(found: models.map(\.id), asked: id)
        }
        return MeterProfile(
            name: "sunspec-\(header.id)",
            manufacturer: common?.manufacturer.nonEmpty ?? "SunSpec",
            model: common?.model.nonEmpty ?? definition.label,
            source: "SunSpec model \(header.id) (\(definition.label)) at \(header.address), found by discovery",
            description: definition.label,
            maxRegistersPerRequest: 125,
            // Every register between a model's points exists: read each model in few requests.
            maxGap: 125,
            measurands: measurands,
            functions: nil
        )
    }
}

/// Why SunSpec discovery did not find a readable device.
public enum SunSpecError: Error, Sendable, CustomStringConvertible {
    /// No `SunS` marker at any base; what each base answered.
    case noMarker([UInt16: String])
    /// A model's length runs past the last register.
    case modelRunsPast(id: UInt16, address: UInt16, length: Int)
    /// More models than a device has: the chain does not end (or loops).
    case tooManyModels(Int)
    /// The unit did not answer, or the bus failed (not a SunSpec matter: the error says what to check).
    case bus(ModbusError)
    /// A read failed while walking the chain.
    case readFailed(address: UInt16, error: ModbusError)
    /// None of the models found is one we read (or not the one asked for).
    case noReadableModel(found: [UInt16], asked: UInt16?)

    public var description: String {
        switch self {
        case .noMarker(let answers):
            let tried = SunSpecMarker.bases.map { "\($0): \(answers[$0] ?? "not tried")" }.joined(separator: "; ")
            return "no SunSpec device: no 'SunS' marker at register 40000, 0 or 50000 (\(tried))"
        case .modelRunsPast(let id, let address, let length):
            return
                "SunSpec model \(id) at register \(address) states length \(length), which runs past register 65535: not a valid SunSpec map"
        case .tooManyModels(let count):
            return
                "the SunSpec model chain has more than \(count) models without an end marker (0xFFFF): it does not end, or loops"
        case .bus(let error):
            return "\(error)"
        case .readFailed(let address, let error):
            return "cannot read the SunSpec model chain at register \(address): \(error.message)"
        case .noReadableModel(let found, let asked):
            let list = found.isEmpty ? "none" : found.map(String.init).joined(separator: ", ")
            if let asked {
                return "the SunSpec device has no model \(asked) we read (its models: \(list))"
            }
            return
                "the SunSpec device has no meter (201-204, 211-214) or inverter (101-103, 111-113) model (its models: \(list))"
        }
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
