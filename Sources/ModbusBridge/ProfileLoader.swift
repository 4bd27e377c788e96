import Foundation
import Yams

/// A meter profile that could not be loaded: which file, which field, what is wrong.
public struct ProfileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// Path of the field, e.g. `measurands[3].type`; empty for the file as a whole.
    public var field: String
    public var problem: String

    public var description: String {
        field.isEmpty ? "\(file): \(problem)" : "\(file): \(field): \(problem)"
    }
}

/// Reads meter profiles from YAML (the format is in docs/METER-PROFILES.md).
public enum ProfileLoader {
    /// Loads and checks one profile file.
    public static func load(file: String) throws(ProfileError) -> MeterProfile {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ProfileError(file: file, field: "", problem: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: file)
    }

    /// Parses and checks profile text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ProfileError) -> MeterProfile {
        let document: RawProfile
        do {
            document = try YAMLDecoder().decode(RawProfile.self, from: text)
        } catch let error as DecodingError {
            throw describe(error, file: file)
        } catch {
            throw ProfileError(file: file, field: "", problem: "not valid YAML: \(error)")
        }
        return try document.resolve(file: file)
    }

    private static func describe(_ error: DecodingError, file: String) -> ProfileError {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce(into: "") { path, key in
                if let index = key.intValue {
                    path += "[\(index)]"
                } else {
                    path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return ProfileError(
                file: file,
                field: parent.isEmpty ? key.stringValue : "\(parent).\(key.stringValue)",
                problem: "missing (required)"
            )
        case .typeMismatch(let type, let context):
            return ProfileError(
                file: file,
                field: path(context.codingPath),
                problem: "expected \(friendlyName(type))"
            )
        case .valueNotFound(let type, let context):
            return ProfileError(
                file: file,
                field: path(context.codingPath),
                problem: "empty; expected \(friendlyName(type))"
            )
        case .dataCorrupted(let context):
            return ProfileError(file: file, field: path(context.codingPath), problem: context.debugDescription)
        @unknown default:
            return ProfileError(file: file, field: "", problem: "\(error)")
        }
    }

    private static func friendlyName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt16.Type: "a whole number"
        case is Double.Type: "a number"
        case is String.Type: "a string"
        default: "\(type)".lowercased().contains("array") ? "a list" : "a mapping"
        }
    }
}

/// The YAML as written, before defaults are applied and values checked.
private struct RawProfile: Decodable {
    struct RawSerial: Decodable {
        var baud: Int?
        var parity: String?
        var dataBits: Int?
        var stopBits: Int?
    }

    struct RawDefaults: Decodable {
        var table: String?
        var type: String?
        var order: String?
        var scale: Double?
        var nan: RegisterBits?
    }

    struct RawMeasurand: Decodable {
        var name: String?
        var obis: String?
        var table: String?
        var address: RegisterAddress?
        var type: String?
        var order: String?
        var scale: Double?
        var unit: String?
        var description: String?
        var nan: RegisterBits?
        var resolution: Double?
        var scaleRegister: RegisterAddress?
    }

    var name: String?
    var manufacturer: String?
    var model: String?
    var models: [String]?
    var source: String?
    var description: String?
    var serial: RawSerial?
    var maxRegistersPerRequest: Int?
    var maxGap: Int?
    var defaults: RawDefaults?
    var measurands: [RawMeasurand]?
    var functions: [Int]?

    func resolve(file: String) throws(ProfileError) -> MeterProfile {
        func fail(_ field: String, _ problem: String) -> ProfileError {
            ProfileError(file: file, field: field, problem: problem)
        }
        func required<T>(_ value: T?, _ field: String) throws(ProfileError) -> T {
            guard let value else { throw fail(field, "missing (required)") }
            return value
        }
        func choice<T: RawRepresentable & CaseIterable>(
            _ text: String?,
            _ field: String,
            _: T.Type
        ) throws(ProfileError) -> T where T.RawValue == String {
            let text = try required(text, field)
            guard let value = T(rawValue: text) else {
                let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail(field, "unknown value '\(text)'; expected one of: \(allowed)")
            }
            return value
        }

        let name = try required(name, "name")
        guard name.range(of: "^[a-z0-9][a-z0-9_-]*$", options: .regularExpression) != nil else {
            throw fail("name", "'\(name)' must be lowercase letters, digits, '-' or '_'")
        }

        var serialDefaults = SerialDefaults()
        if let serial {
            if let baud = serial.baud {
                guard SerialSettings.supportedBaudRates.contains(baud) else {
                    throw fail("serial.baud", "unsupported baud rate \(baud)")
                }
                serialDefaults.baud = baud
            }
            if let parity = serial.parity {
                guard let value = Parity(flag: parity) else {
                    throw fail("serial.parity", "unknown value '\(parity)'; expected one of: N, E, O")
                }
                serialDefaults.parity = value
            }
            if let dataBits = serial.dataBits {
                guard (5...8).contains(dataBits) else { throw fail("serial.dataBits", "must be 5 to 8") }
                serialDefaults.dataBits = dataBits
            }
            if let stopBits = serial.stopBits {
                guard stopBits == 1 || stopBits == 2 else { throw fail("serial.stopBits", "must be 1 or 2") }
                serialDefaults.stopBits = stopBits
            }
        }

        let maxRegisters = maxRegistersPerRequest ?? 125
        guard (4...125).contains(maxRegisters) else {
            throw fail("maxRegistersPerRequest", "must be 4 to 125, not \(maxRegisters)")
        }
        let gap = maxGap ?? 8
        guard (0...125).contains(gap) else { throw fail("maxGap", "must be 0 to 125, not \(gap)") }

        let rawMeasurands = try required(measurands, "measurands")
        guard !rawMeasurands.isEmpty else { throw fail("measurands", "the list is empty") }

        var resolved: [Measurand] = []
        var seen: [String: Int] = [:]
        for (index, raw) in rawMeasurands.enumerated() {
            let at = "measurands[\(index)]"
            let measurandName = try required(raw.name, "\(at).name")
            if let first = seen[measurandName] {
                throw fail("\(at).name", "'\(measurandName)' is already used by measurands[\(first)]")
            }
            seen[measurandName] = index
            let table = try choice(raw.table ?? defaults?.table, "\(at).table", RegisterTable.self)
            guard table.holdsRegisters else {
                throw fail("\(at).table", "measurands live in 'input' or 'holding' registers, not '\(table.rawValue)'")
            }
            let type = try choice(raw.type ?? defaults?.type, "\(at).type", DataType.self)
            let order = try choice(raw.order ?? defaults?.order ?? "ABCD", "\(at).order", WordOrder.self)
            let address = try required(raw.address, "\(at).address").value
            guard Int(address) + type.registerCount <= 0x10000 else {
                throw fail("\(at).address", "\(type.rawValue) at \(address) runs past register 0xFFFF")
            }
            let scale = raw.scale ?? defaults?.scale ?? 1
            guard scale.isFinite, scale != 0 else { throw fail("\(at).scale", "must be a non-zero number") }
            let unit = try required(raw.unit, "\(at).unit")
            if let obis = raw.obis,
                obis.range(of: #"^\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}(\*\d{1,3})?$"#, options: .regularExpression)
                    == nil
            {
                throw fail("\(at).obis", "'\(obis)' is not an OBIS code like 1-0:32.7.0")
            }
            let nan = raw.nan ?? defaults?.nan
            if let nan, type.registerCount < 4, nan.value >> (16 * UInt64(type.registerCount)) != 0 {
                throw fail("\(at).nan", "0x\(String(nan.value, radix: 16)) is wider than \(type.rawValue)")
            }
            if let resolution = raw.resolution {
                guard resolution.isFinite, resolution > 0 else {
                    throw fail("\(at).resolution", "must be a positive number (the counter's step in \(unit))")
                }
            }
            if raw.scaleRegister != nil {
                guard !type.isFloatingPoint else {
                    throw fail("\(at).scaleRegister", "a \(type.rawValue) needs no scale register")
                }
            }
            resolved.append(
                Measurand(
                    name: measurandName,
                    obis: raw.obis,
                    table: table,
                    address: address,
                    type: type,
                    order: order,
                    scale: scale,
                    unit: unit,
                    description: raw.description,
                    nan: nan?.value,
                    resolution: raw.resolution,
                    scaleRegister: raw.scaleRegister?.value
                )
            )
        }
        try checkOverlaps(resolved, fail: fail)
        try checkScaleRegisters(resolved, fail: fail)

        var functionCodes: Set<UInt8>?
        if let functions {
            guard !functions.isEmpty else { throw fail("functions", "the list is empty; leave it out instead") }
            for (index, code) in functions.enumerated() where !(1...127).contains(code) {
                throw fail("functions[\(index)]", "\(code) is not a Modbus function code (1 to 127)")
            }
            functionCodes = Set(functions.map { UInt8($0) })
        }

        return MeterProfile(
            name: name,
            manufacturer: try required(manufacturer, "manufacturer"),
            model: try required(model, "model"),
            models: models ?? [],
            source: source,
            description: description,
            serial: serialDefaults,
            maxRegistersPerRequest: maxRegisters,
            maxGap: gap,
            measurands: resolved,
            functions: functionCodes
        )
    }

    /// A scale register is a register of its own, or a measurand that is that int16 itself.
    private func checkScaleRegisters(
        _ measurands: [Measurand],
        fail: (String, String) -> ProfileError
    ) throws(ProfileError) {
        for (index, measurand) in measurands.enumerated() {
            guard let register = measurand.scaleRegister else { continue }
            for (otherIndex, other) in measurands.enumerated()
            where other.table == measurand.table
                && (Int(other.address)..<other.endAddress).contains(Int(register))
                && !(other.address == register && other.type == .int16)
            {
                throw fail(
                    "measurands[\(index)].scaleRegister",
                    "0x\(String(register, radix: 16)) lies inside '\(other.name)' (measurands[\(otherIndex)])"
                )
            }
        }
    }

    /// Two measurands sharing a register is a typo in a register map, never intended.
    private func checkOverlaps(
        _ measurands: [Measurand],
        fail: (String, String) -> ProfileError
    ) throws(ProfileError) {
        let indexed = measurands.enumerated().sorted {
            ($0.element.table.rawValue, $0.element.address) < ($1.element.table.rawValue, $1.element.address)
        }
        for (previous, next) in zip(indexed, indexed.dropFirst())
        where previous.element.table == next.element.table && previous.element.endAddress > Int(next.element.address) {
            throw fail(
                "measurands[\(next.offset)].address",
                "'\(next.element.name)' overlaps '\(previous.element.name)' (measurands[\(previous.offset)])"
            )
        }
    }
}

/// A register address written as a number (`72`) or hexadecimal (`0x0048`).
private struct RegisterAddress: Decodable {
    var value: UInt16

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            guard let value = UInt16(exactly: number) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "address \(number) is outside 0 to 65535"
                )
            }
            self.value = value
            return
        }
        guard let text = try? container.decode(String.self) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected an address: a number from 0 to 65535, decimal or 0x hex"
            )
        }
        let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
        let radix = text.lowercased().hasPrefix("0x") ? 16 : 10
        guard let value = UInt16(digits, radix: radix) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "'\(text)' is not an address from 0 to 65535 (decimal or 0x hex)"
            )
        }
        self.value = value
    }
}

/// A `nan` sentinel: the raw bits as a number, usually hexadecimal (`0xFFFFFFFF`).
private struct RegisterBits: Decodable {
    var value: UInt64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            value = number
            return
        }
        let text = (try? container.decode(String.self)) ?? ""
        let hex = text.lowercased().hasPrefix("0x")
        guard let value = UInt64(hex ? String(text.dropFirst(2)) : text, radix: hex ? 16 : 10) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "'\(text)' is not a register value (a number, decimal or 0x hex, up to 64 bits)"
            )
        }
        self.value = value
    }
}
