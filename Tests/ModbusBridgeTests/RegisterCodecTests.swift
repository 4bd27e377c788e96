import TestSupport
import Testing

@testable import ModbusBridge

@Suite("Register codec")
struct RegisterCodecTests {
    @Test("230.0 as float32 in each word order, as the wire carries it")
    func float32Vectors() throws {
        // 230.0 = 0x43660000
        let expected: [WordOrder: [UInt16]] = [
            .ABCD: [0x4366, 0x0000], .CDAB: [0x0000, 0x4366],
            .BADC: [0x6643, 0x0000], .DCBA: [0x0000, 0x6643],
        ]
        for (order, words) in expected {
            #expect(try RegisterCodec.encode(.float(230), as: .float32, order: order) == words, "\(order)")
            #expect(RegisterCodec.decode(words[...], as: .float32, order: order) == .float(230), "\(order)")
        }
    }

    @Test("int32 -2 low word first (CDAB), as Carlo Gavazzi sends it")
    func int32Vector() throws {
        #expect(try RegisterCodec.encode(.signed(-2), as: .int32, order: .CDAB) == [0xFFFE, 0xFFFF])
        #expect(RegisterCodec.decode([0x0001, 0x0002][...], as: .int32, order: .CDAB) == .signed(0x0002_0001))
        #expect(RegisterCodec.decode([0x0001, 0x0002][...], as: .int32, order: .ABCD) == .signed(0x0001_0002))
    }

    @Test("64-bit values: word order reversed and bytes swapped")
    func int64Vector() throws {
        let value: UInt64 = 0x0102_0304_0506_0708
        #expect(
            try RegisterCodec.encode(.unsigned(value), as: .uint64, order: .ABCD) == [0x0102, 0x0304, 0x0506, 0x0708]
        )
        #expect(
            try RegisterCodec.encode(.unsigned(value), as: .uint64, order: .CDAB) == [0x0708, 0x0506, 0x0304, 0x0102]
        )
        #expect(
            try RegisterCodec.encode(.unsigned(value), as: .uint64, order: .BADC) == [0x0201, 0x0403, 0x0605, 0x0807]
        )
        #expect(
            try RegisterCodec.encode(.unsigned(value), as: .uint64, order: .DCBA) == [0x0807, 0x0605, 0x0403, 0x0201]
        )
    }

    @Test("every type and order round-trips", arguments: DataType.allCases)
    func roundTrip(type: DataType) throws {
        var generator = SplitMix64(seed: UInt64(type.registerCount) * 7919)
        for order in WordOrder.allCases {
            for _ in 0..<200 {
                let value = sample(type, using: &generator)
                let words = try RegisterCodec.encode(value, as: type, order: order)
                #expect(words.count == type.registerCount)
                let decoded = RegisterCodec.decode(words[...], as: type, order: order)
                #expect(decoded == value, "\(type) \(order) \(value)")
            }
        }
    }

    @Test("values that do not fit are refused, not truncated")
    func outOfRange() {
        #expect(throws: RegisterCodecError.self) { try RegisterCodec.encode(.signed(70_000), as: .int16, order: .ABCD) }
        #expect(throws: RegisterCodecError.self) { try RegisterCodec.encode(.signed(-1), as: .uint32, order: .ABCD) }
        #expect(throws: RegisterCodecError.self) { try RegisterCodec.encode(.float(1.5), as: .int32, order: .ABCD) }
        #expect(throws: RegisterCodecError.self) { try RegisterCodec.encode(.float(.nan), as: .uint16, order: .ABCD) }
    }

    @Test("scaled integer measurands round to the register's resolution")
    func scaledEncoding() throws {
        let voltage = Measurand(
            name: "v",
            table: .holdingRegisters,
            address: 0,
            type: .int32,
            order: .CDAB,
            scale: 0.1,
            unit: "V"
        )
        let words = try voltage.encode(230.14)
        #expect(words == [2301, 0])
        #expect(abs(voltage.decode(words[...]).value - 230.1) < 1e-9)
    }

    private func sample(_ type: DataType, using generator: inout SplitMix64) -> RawValue {
        let bits = generator.next()
        switch type {
        case .uint16: return .unsigned(bits & 0xFFFF)
        case .uint32: return .unsigned(bits & 0xFFFF_FFFF)
        case .uint64: return .unsigned(bits)
        case .int16: return .signed(Int64(Int16(truncatingIfNeeded: bits)))
        case .int32: return .signed(Int64(Int32(truncatingIfNeeded: bits)))
        case .int64: return .signed(Int64(bitPattern: bits))
        case .float32: return .float(Double(Float(Double(Int32(truncatingIfNeeded: bits)) / 1000)))
        case .float64: return .float(Double(Int64(bitPattern: bits)) / 1e6)
        }
    }
}
