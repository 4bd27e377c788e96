import ModbusBridge

/// Values a faulty meter or an attacker with a valid key may sign: the type's extremes, the
/// boundaries around a plausible value, and now and then anything at all.
extension SplitMix64 {
    /// One of the extremes of `Int64`, a value just around `plausible`, or a random one.
    package mutating func hostileInt64(around plausible: Int64) -> Int64 {
        switch next() % 10 {
        case 0: return .min
        case 1: return .min &+ 1
        case 2: return .max
        case 3: return .max &- 1
        case 4: return [-1, 0, 1][Int(next() % 3)]
        case 5: return plausible &+ Int64(bitPattern: next() % 5) &- 2
        case 6: return plausible &- Int64(bitPattern: next() >> 1)
        case 7: return plausible &+ Int64(bitPattern: next() >> 1)
        default: return Int64(bitPattern: next())
        }
    }

    /// One of the extremes of `UInt64`, a value just around `plausible`, or a random one.
    package mutating func hostileUInt64(around plausible: UInt64) -> UInt64 {
        switch next() % 8 {
        case 0: return .max
        case 1: return .max &- 1
        case 2: return [0, 1, 2][Int(next() % 3)]
        case 3: return plausible &+ next() % 5 &- 2
        case 4: return UInt64(Int64.max) &+ next() % 3 &- 1
        case 5: return plausible &+ (next() >> 1)
        default: return next()
        }
    }

    /// True with probability `percent` / 100.
    package mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }

    /// A random element of `items` (which must not be empty).
    package mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
}
