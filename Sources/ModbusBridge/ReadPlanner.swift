/// One Modbus read request of a plan and the measurands it carries.
public struct ReadRequest: Sendable, Hashable {
    public var table: RegisterTable
    public var address: UInt16
    public var count: Int
    /// Measurands inside `address ..< address + count`.
    public var measurands: [Measurand]

    public init(table: RegisterTable, address: UInt16, count: Int, measurands: [Measurand]) {
        self.table = table
        self.address = address
        self.count = count
        self.measurands = measurands
    }

    /// One past the last register read.
    public var endAddress: Int { Int(address) + count }
}

/// The requests that read a set of measurands, and how to decode their answers.
public struct ReadPlan: Sendable, Hashable {
    public var requests: [ReadRequest]

    public init(requests: [ReadRequest]) {
        self.requests = requests
    }

    /// Registers read in all, gap fill included.
    public var registerCount: Int { requests.reduce(0) { $0 + $1.count } }

    /// Decodes the answers, one register array per request, in plan order. A measurand with
    /// a scale register takes its exponent from wherever the plan read that register.
    public func decode(_ answers: [[UInt16]]) -> [Measurement] {
        precondition(answers.count == requests.count, "one answer per request")
        var read: [RegisterKey: UInt16] = [:]
        let scaled = requests.contains { $0.measurands.contains(where: \.hasScaleRegister) }
        for (request, registers) in zip(requests, answers) where scaled {
            for (offset, word) in registers.enumerated() {
                read[RegisterKey(table: request.table, address: Int(request.address) + offset)] = word
            }
        }
        var measurements: [Measurement] = []
        for (request, registers) in zip(requests, answers) {
            for measurand in request.measurands {
                let start = Int(measurand.address) - Int(request.address)
                let exponent = measurand.scaleRegister.flatMap {
                    read[RegisterKey(table: measurand.table, address: Int($0))].map { Int16(bitPattern: $0) }
                }
                let (raw, value) = measurand.decode(
                    registers[start..<start + measurand.registerCount],
                    exponent: exponent
                )
                measurements.append(Measurement(measurand: measurand, raw: raw, value: value))
            }
        }
        return measurements
    }

    private struct RegisterKey: Hashable {
        var table: RegisterTable
        var address: Int
    }
}

/// Turns measurands into the fewest read requests.
///
/// Measurands of one table are sorted by address and joined greedily while the gap
/// between them is at most `maxGap` unused registers and the request stays within
/// `maxRegistersPerRequest`. Requests never cross tables. For intervals sorted by start,
/// the greedy choice gives the minimum number of requests under both bounds.
public struct ReadPlanner: Sendable {
    public var maxRegistersPerRequest: Int
    public var maxGap: Int

    public init(maxRegistersPerRequest: Int = 125, maxGap: Int = 8) {
        self.maxRegistersPerRequest = min(125, max(4, maxRegistersPerRequest))
        self.maxGap = max(0, maxGap)
    }

    /// The requests for `measurands`, and for the scale registers they name (read with
    /// them, never reported as measurands).
    public func plan(_ measurands: [Measurand]) -> ReadPlan {
        let scaleRegisters = Set(
            measurands.compactMap { m in m.scaleRegister.map { ScaleRegister(table: m.table, address: $0) } }
        )
        let standIns = scaleRegisters.sorted { ($0.table.rawValue, $0.address) < ($1.table.rawValue, $1.address) }.map {
            Measurand(
                name: Self.standInPrefix + String($0.address),
                table: $0.table,
                address: $0.address,
                type: .int16,
                unit: ""
            )
        }
        var requests: [ReadRequest] = []
        for table in RegisterTable.allCases where table.holdsRegisters {
            let sorted = (measurands + standIns).filter { $0.table == table }
                .sorted { ($0.address, $0.registerCount) < ($1.address, $1.registerCount) }
            var current: ReadRequest?
            for measurand in sorted {
                if var request = current {
                    let gap = Int(measurand.address) - request.endAddress
                    let end = max(request.endAddress, measurand.endAddress)
                    if gap <= maxGap, end - Int(request.address) <= maxRegistersPerRequest {
                        request.count = end - Int(request.address)
                        request.measurands.append(measurand)
                        current = request
                        continue
                    }
                    requests.append(request)
                }
                current = ReadRequest(
                    table: table,
                    address: measurand.address,
                    count: measurand.registerCount,
                    measurands: [measurand]
                )
            }
            if let current { requests.append(current) }
        }
        for index in requests.indices {
            requests[index].measurands.removeAll { $0.name.hasPrefix(Self.standInPrefix) }
        }
        return ReadPlan(requests: requests)
    }

    /// Names the planner gives scale registers while it plans (no profile name can start so:
    /// names are lowercase).
    private static let standInPrefix = "Scale register "

    private struct ScaleRegister: Hashable {
        var table: RegisterTable
        var address: UInt16
    }
}

/// A decoded value of one measurand.
public struct Measurement: Sendable, Hashable {
    public var measurand: Measurand
    /// The value as stored, before scaling.
    public var raw: RawValue
    /// The value in the measurand's unit.
    public var value: Double

    public init(measurand: Measurand, raw: RawValue, value: Double) {
        self.measurand = measurand
        self.raw = raw
        self.value = value
    }
}
