import Foundation
import Logging

/// What a server's thread hands each whole request frame to: the answer bytes (nil: stay
/// silent) and any fault to apply on the way out, and the server's counters.
protocol FrameAnswering: AnyObject {
    func answer(_ frame: [UInt8], unit: UInt8) -> (bytes: [UInt8], fault: Fault?)?
    var statistics: ServerStatistics { get }
    func count(_ update: (inout ServerStatistics) -> Void)
}

/// Routes request frames to units, injects faults, and produces the answer bytes.
/// Owned by one server thread.
final class RequestDispatcher: FrameAnswering {
    private let banks: [UInt8: RegisterBank]
    private let responder: FrameResponder
    private var faults: FaultDrawer
    private let logger: Logger
    private let statisticsLock = NSLock()
    private var counters = ServerStatistics()

    private let framing: ServerFraming
    private let responseDelays: [UInt8: Duration]

    init(units: [UInt8: RegisterBank], framing: ServerFraming, options: ServerOptions) throws(ModbusError) {
        for unit in units.keys where !(1...247).contains(unit) {
            throw .invalidArgument("unit id must be 1 to 247, not \(unit)", operation: "serve unit \(unit)")
        }
        self.banks = units
        self.responder = try FrameResponder(framing: framing)
        self.framing = framing
        self.faults = FaultDrawer(options.faults)
        self.responseDelays = options.responseDelays
        self.logger = options.logger
    }

    var statistics: ServerStatistics { statisticsLock.withLock { counters } }

    func count(_ update: (inout ServerStatistics) -> Void) {
        statisticsLock.withLock { update(&counters) }
    }

    /// The answer to a whole request frame, or nil when none is due; the fault applied to it.
    func answer(_ frame: [UInt8], unit: UInt8) -> (bytes: [UInt8], fault: Fault?)? {
        if unit == 0 {
            count { $0.broadcasts += 1 }
            for (served, bank) in banks {
                do {
                    if try responder.respond(to: frame, unit: served, bank: bank).refused != nil {
                        count { $0.refused += 1 }
                    }
                } catch {
                    logger.debug(
                        "broadcast rejected",
                        metadata: ["modbus.unit": "\(served)", "error": "\(error)"]
                    )
                }
            }
            return nil
        }
        guard let bank = banks[unit] else {
            count { $0.ignored += 1 }
            logger.trace("request for a unit not served here", metadata: ["modbus.unit": "\(unit)"])
            return nil
        }
        count { $0.requests += 1 }
        let fault = faults.next()
        if fault != nil { count { $0.faultsInjected += 1 } }
        if fault == .noReply {
            logger.debug("fault injected", metadata: ["modbus.unit": "\(unit)", "fault": "\(Fault.noReply)"])
            return nil
        }
        var exception: ModbusException?
        if case .exception(let chosen) = fault { exception = chosen }
        do {
            let (bytes, refused) = try responder.respond(to: frame, unit: unit, bank: bank, exception: exception)
            if let fault {
                logger.debug("fault injected", metadata: ["modbus.unit": "\(unit)", "fault": "\(fault)"])
            }
            if let refused {
                count { $0.refused += 1 }
                logger.debug(
                    "request refused as the meter's firmware would",
                    metadata: [
                        "modbus.unit": "\(unit)", "modbus.function": "\(functionCode(of: frame))",
                        "answer": "\(refused)",
                    ]
                )
            }
            if !bytes.isEmpty, let delay = responseDelays[unit] {
                // A slow unit: the line is busy until it answers.
                sleep(until: ContinuousClock.now + delay)
            }
            return bytes.isEmpty ? nil : (bytes, fault)
        } catch {
            count { $0.rejected += 1 }
            logger.debug("request rejected", metadata: ["modbus.unit": "\(unit)", "error": "\(error)"])
            return nil
        }
    }

    /// The function code of a whole request frame, for logs.
    private func functionCode(of frame: [UInt8]) -> String {
        let index = framing == .rtu ? 1 : 7
        guard index < frame.count else { return "none" }
        return String(format: "0x%02X", frame[index])
    }
}
