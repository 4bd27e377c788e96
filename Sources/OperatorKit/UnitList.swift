import Foundation

/// Modbus unit ids written as a list of ids and ranges: `7`, `1-200`, `1-10,20,30-40`.
///
/// Fleet files and agent files use it to describe many meters of a bus in one entry. Ids
/// are 1…247 (0 is the broadcast address, 248…255 are reserved), each at most once.
public struct UnitList: Sendable, Equatable {
    /// The ids in the order written.
    public let units: [UInt8]

    /// Parses `text`; the error says what is wrong and where (`context`).
    public init(parsing text: String, context: String) throws(ConfigFileError) {
        var units: [UInt8] = []
        var seen = Set<UInt8>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            let bounds = item.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let first = Int(bounds[0].trimmingCharacters(in: .whitespaces)),
                let last = bounds.count == 2 ? Int(bounds[1].trimmingCharacters(in: .whitespaces)) : first
            else {
                throw ConfigFileError(context, "'\(item)' is not a unit id or a range like 1-200")
            }
            guard (1...247).contains(first), (1...247).contains(last) else {
                throw ConfigFileError(context, "'\(item)': unit ids are 1 to 247")
            }
            guard first <= last else {
                throw ConfigFileError(context, "'\(item)': a range runs from the lower id to the higher")
            }
            for unit in first...last {
                guard seen.insert(UInt8(unit)).inserted else {
                    throw ConfigFileError(context, "unit \(unit) is listed twice")
                }
                units.append(UInt8(unit))
            }
        }
        self.units = units
    }

    /// The ids of a config entry that gives either `unit` (one meter) or `units` (a list).
    public init(unit: Int?, units: String?, context: String) throws(ConfigFileError) {
        switch (unit, units) {
        case (let unit?, nil):
            guard (1...247).contains(unit) else { throw ConfigFileError("\(context).unit", "must be 1 to 247") }
            self.units = [UInt8(unit)]
        case (nil, let list?):
            self = try UnitList(parsing: list, context: "\(context).units")
        case (nil, nil):
            throw ConfigFileError("\(context).unit", "missing (required; or units: a range like 1-200)")
        case (_?, _?):
            throw ConfigFileError(context, "give unit (one meter) or units (a range like 1-200), not both")
        }
    }

    /// The first id that occurs more than once in `units`, if any: two meters of one bus
    /// cannot share an id.
    public static func firstRepeated(in units: [UInt8]) -> UInt8? {
        var seen = Set<UInt8>()
        return units.first { !seen.insert($0).inserted }
    }
}

/// How config files let a field name one value (`profile: sdm630`) or several dealt over many
/// meters (`profiles: [sdm630, sdm120]`).
public enum ConfigFileList {
    /// The meter profiles of an entry: `profile` or `profiles`, one of them required.
    public static func profiles(_ one: String?, _ many: [String]?, context: String) throws(ConfigFileError) -> [String]
    {
        guard let profiles = try oneOrMany(one, many, names: ("profile", "profiles"), context: context) else {
            throw ConfigFileError("\(context).profile", "missing (required)")
        }
        return profiles
    }

    /// The list given as `one` or as `many` (not both, and not an empty list); nil for neither.
    public static func oneOrMany(
        _ one: String?,
        _ many: [String]?,
        names: (one: String, many: String),
        context: String
    ) throws(ConfigFileError) -> [String]? {
        switch (one, many) {
        case (let one?, nil): return [one]
        case (nil, let many?):
            guard !many.isEmpty else { throw ConfigFileError("\(context).\(names.many)", "the list is empty") }
            return many
        case (nil, nil): return nil
        case (_?, _?): throw ConfigFileError(context, "give \(names.one) or \(names.many), not both")
        }
    }
}
