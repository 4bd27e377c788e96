import Foundation
import GridAPI
import Yams

/// An OpenAPI document of docs/openapi, read for what the contract tests compare with the
/// code: its operations, the schemas their bodies name, and each schema's property names.
package struct OpenAPIDocument {
    package struct Operation: Hashable, CustomStringConvertible {
        package var method: String
        package var path: String
        package var description: String { "\(method) \(path)" }
    }

    /// Every operation, as `GET /v1/blocks/{height}`.
    package let operations: Set<Operation>
    /// The schemas each operation's JSON request and response bodies refer to directly.
    package let bodies: [Operation: Set<String>]
    /// The property names of each object schema, by schema name.
    package let properties: [String: Set<String>]
    /// The file's name in docs/openapi, for messages.
    package let name: String

    /// Loads `docs/openapi/<name>` of this repository.
    package init(named name: String, file: String = #filePath) throws {
        var root = URL(fileURLWithPath: file)
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let text = try String(contentsOf: root.appendingPathComponent("docs/openapi/\(name)"), encoding: .utf8)
        guard let document = try Yams.load(yaml: text) as? [String: Any] else {
            throw ContractError("docs/openapi/\(name) is not a YAML mapping")
        }
        var operations: Set<Operation> = []
        var bodies: [Operation: Set<String>] = [:]
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for (method, value) in item as? [String: Any] ?? [:] {
                guard ["get", "post", "put", "patch", "delete", "head", "options"].contains(method) else { continue }
                let operation = Operation(method: method.uppercased(), path: path)
                operations.insert(operation)
                var refs: Set<String> = []
                let spec = value as? [String: Any] ?? [:]
                if let body = spec["requestBody"] as? [String: Any] { refs.formUnion(Self.jsonRefs(body)) }
                for (_, response) in spec["responses"] as? [String: Any] ?? [:] {
                    refs.formUnion(Self.jsonRefs(response as? [String: Any] ?? [:]))
                }
                bodies[operation] = refs
            }
        }
        var properties: [String: Set<String>] = [:]
        let components = document["components"] as? [String: Any] ?? [:]
        for (name, schema) in components["schemas"] as? [String: Any] ?? [:] {
            if let props = (schema as? [String: Any])?["properties"] as? [String: Any] {
                properties[name] = Set(props.keys)
            }
        }
        self.operations = operations
        self.bodies = bodies
        self.properties = properties
        self.name = name
    }

    /// The schema names an `application/json` content refers to with `$ref`.
    private static func jsonRefs(_ object: [String: Any]) -> Set<String> {
        guard let content = object["content"] as? [String: Any],
            let json = content["application/json"] as? [String: Any],
            let schema = json["schema"] as? [String: Any], let ref = schema["$ref"] as? String
        else { return [] }
        return [String(ref.split(separator: "/").last ?? "")]
    }

    /// The operations of a route table, in the document's terms.
    package static func operations(of routes: [Endpoint]) -> Set<Operation> {
        Set(routes.map { Operation(method: $0.method.rawValue, path: $0.template) })
    }
}

package struct ContractError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// The JSON keys a type encodes when every optional field has a value: a sample is decoded
/// from nothing (each key present, each value a placeholder) and encoded again.
package enum EncodedKeys {
    package static func of(_ type: any Codable.Type) throws -> Set<String> {
        try keys(of: type)
    }

    private static func keys<T: Codable>(of type: T.Type) throws -> Set<String> {
        let sample = try T(from: SampleDecoder())
        let data = try JSONEncoder().encode(sample)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ContractError("\(T.self) does not encode as a JSON object")
        }
        return Set(object.keys)
    }
}

/// A decoder that answers every key with a placeholder: the first case of an enum, 1, true,
/// "x", one element for arrays and no keys for dictionaries.
private struct SampleDecoder: Decoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed<Key>())
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { Unkeyed() }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single() }

    static func placeholder<T: Decodable>(_ type: T.Type) throws -> T {
        if let cases = T.self as? any CaseIterable.Type, let first = firstCase(cases) as? T { return first }
        switch T.self {
        case is String.Type: return "x" as! T
        case is Bool.Type: return true as! T
        case is Double.Type: return 1.0 as! T
        case is Int.Type: return 1 as! T
        case is Int64.Type: return Int64(1) as! T
        case is UInt64.Type: return UInt64(1) as! T
        case is UInt32.Type: return UInt32(1) as! T
        case is Int32.Type: return Int32(1) as! T
        case is UInt16.Type: return UInt16(1) as! T
        case is Int16.Type: return Int16(1) as! T
        case is UInt8.Type: return UInt8(1) as! T
        case is Int8.Type: return Int8(1) as! T
        default: return try T(from: SampleDecoder())
        }
    }

    private static func firstCase<C: CaseIterable>(_ type: C.Type) -> Any? { C.allCases.first }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        var codingPath: [any CodingKey] = []
        var allKeys: [Key] { [] }
        func contains(_ key: Key) -> Bool { true }
        func decodeNil(forKey key: Key) throws -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try placeholder(T.self) }
        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type,
            forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            KeyedDecodingContainer(Keyed<NestedKey>())
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { Unkeyed() }
        func superDecoder() throws -> any Decoder { SampleDecoder() }
        func superDecoder(forKey key: Key) throws -> any Decoder { SampleDecoder() }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        var codingPath: [any CodingKey] = []
        var count: Int? { 1 }
        var currentIndex = 0
        var isAtEnd: Bool { currentIndex >= 1 }
        mutating func decodeNil() throws -> Bool { false }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            currentIndex += 1
            return try placeholder(T.self)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type
        ) throws -> KeyedDecodingContainer<NestedKey> {
            currentIndex += 1
            return KeyedDecodingContainer(Keyed<NestedKey>())
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            currentIndex += 1
            return Unkeyed()
        }
        mutating func superDecoder() throws -> any Decoder { SampleDecoder() }
    }

    struct Single: SingleValueDecodingContainer {
        var codingPath: [any CodingKey] = []
        func decodeNil() -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try placeholder(T.self) }
    }
}
