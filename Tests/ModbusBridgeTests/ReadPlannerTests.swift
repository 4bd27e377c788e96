import TestSupport
import Testing

@testable import ModbusBridge

@Suite("Read planning")
struct ReadPlannerTests {
    private func measurand(
        _ name: String,
        _ table: RegisterTable,
        _ address: UInt16,
        _ type: DataType = .float32
    ) -> Measurand {
        Measurand(name: name, table: table, address: address, type: type, unit: "")
    }

    @Test("the SDM630 standard set needs a handful of requests, not one per value")
    func sdm630() throws {
        let profile = try ProfileTests.library.profile(named: "sdm630")
        let plan = profile.readPlan()
        #expect(plan.requests.count <= 5, "\(plan.requests.map { "\(hex($0.address))+\($0.count)" })")
        #expect(plan.requests.count < profile.measurands.count / 5)
        for request in plan.requests {
            #expect(request.count <= 80)
        }
        let covered = plan.requests.flatMap(\.measurands).map(\.name)
        #expect(covered.sorted() == profile.measurands.map(\.name).sorted())
    }

    @Test("contiguous values merge; gaps beyond the limit split")
    func gaps() {
        let planner = ReadPlanner(maxRegistersPerRequest: 125, maxGap: 4)
        let plan = planner.plan([
            measurand("a", .inputRegisters, 0), measurand("b", .inputRegisters, 2),
            measurand("c", .inputRegisters, 8),  // gap of 4: joins
            measurand("d", .inputRegisters, 15),  // gap of 5: splits
        ])
        #expect(plan.requests.map(\.address) == [0, 15])
        #expect(plan.requests.map(\.count) == [10, 2])
    }

    @Test("a request never exceeds the meter's maximum")
    func maximum() {
        let measurands = (0..<40).map { measurand("m\($0)", .holdingRegisters, UInt16($0 * 2)) }
        let plan = ReadPlanner(maxRegistersPerRequest: 50, maxGap: 8).plan(measurands)
        #expect(plan.requests.map(\.count) == [50, 30])
        #expect(plan.registerCount == 80)
    }

    @Test("requests never cross tables")
    func tables() {
        let plan = ReadPlanner().plan([
            measurand("a", .inputRegisters, 0), measurand("b", .holdingRegisters, 2),
        ])
        #expect(plan.requests.count == 2)
        #expect(Set(plan.requests.map(\.table)) == [.inputRegisters, .holdingRegisters])
    }

    @Test("decoding a plan's answers gives each measurand its value")
    func decode() throws {
        let plan = ReadPlanner().plan([measurand("a", .inputRegisters, 0), measurand("b", .inputRegisters, 4)])
        let answer: [UInt16] = [0x4366, 0x0000, 0xFFFF, 0xFFFF, 0x4248, 0x0000]  // 230.0, gap, 50.0
        let values = plan.decode([answer])
        #expect(values.map(\.value) == [230, 50])
    }

    @Test("a random set of measurands is covered exactly, within bounds")
    func randomSets() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<200 {
            var used = Set<Int>()
            var measurands: [Measurand] = []
            for index in 0..<Int.random(in: 1...40, using: &generator) {
                let type = DataType.allCases.randomElement(using: &generator)!
                let address = Int.random(in: 0...400, using: &generator)
                let span = Set(address..<address + type.registerCount)
                guard used.isDisjoint(with: span) else { continue }
                used.formUnion(span)
                let table: RegisterTable = Bool.random(using: &generator) ? .inputRegisters : .holdingRegisters
                measurands.append(measurand("m\(index)", table, UInt16(address), type))
            }
            let maxRegisters = Int.random(in: 4...125, using: &generator)
            let maxGap = Int.random(in: 0...10, using: &generator)
            let plan = ReadPlanner(maxRegistersPerRequest: maxRegisters, maxGap: maxGap).plan(measurands)
            #expect(plan.requests.flatMap(\.measurands).count == measurands.count)
            for request in plan.requests {
                #expect(request.count <= maxRegisters)
                for member in request.measurands {
                    #expect(member.table == request.table)
                    #expect(Int(member.address) >= Int(request.address) && member.endAddress <= request.endAddress)
                }
            }
        }
    }
}
