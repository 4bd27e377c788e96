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

    /// Decodes the answers, one register array per request, in plan order.
    public func decode(_ answers: [[UInt16]]) -> [Measurement] {
        precondition(answers.count == requests.count, "one answer per request")
        var measurements: [Measurement] = []
        for (request, registers) in zip(requests, answers) {
            for measurand in request.measurands {
                let start = Int(measurand.address) - Int(request.address)
                let (raw, value) = measurand.decode(registers[start..<start + measurand.registerCount])
                measurements.append(Measurement(measurand: measurand, raw: raw, value: value))
            }
        }
        return measurements
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

    public func plan(_ measurands: [Measurand]) -> ReadPlan {
        var requests: [ReadRequest] = []
        for table in RegisterTable.allCases where table.holdsRegisters {
            let sorted = measurands.filter { $0.table == table }
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
        return ReadPlan(requests: requests)
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
