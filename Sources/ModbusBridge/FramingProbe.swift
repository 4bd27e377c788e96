import Logging

/// Tells Modbus TCP from RTU over TCP. A serial-to-Ethernet converter in transparent mode
/// passes RTU frames (with their CRC) through a TCP connection; a Modbus TCP device wants the
/// MBAP header instead. Asked in the wrong framing, either stays silent or answers garbage,
/// which looks like a wiring fault: after such a failure, one request in the other framing
/// says which it is.
public enum FramingProbe {
    /// The same host and port in the other TCP framing; nil for a serial line.
    public static func alternative(to endpoint: ModbusEndpoint) -> ModbusEndpoint? {
        switch endpoint {
        case .tcp(let host, let port): .rtuOverTCP(host: host, port: port)
        case .rtuOverTCP(let host, let port): .tcp(host: host, port: port)
        case .rtu: nil
        }
    }

    /// True for the failures a wrong framing causes.
    public static func mayBeWrongFraming(_ error: ModbusError) -> Bool {
        switch error.kind {
        case .timeout, .badCRC, .badFrame, .connectionLost: true
        default: false
        }
    }

    /// The endpoint in the other framing when `unit` answers one read of `table` at
    /// `address` through it (a Modbus exception is an answer too: the framing is right);
    /// nil when it does not, or `endpoint` is a serial line.
    public static func otherFramingAnswers(
        _ endpoint: ModbusEndpoint,
        unit: UInt8,
        table: RegisterTable,
        address: UInt16,
        timeout: Duration = .milliseconds(500)
    ) async -> ModbusEndpoint? {
        guard let other = alternative(to: endpoint), table.holdsRegisters else { return nil }
        var logger = Logger(label: "modbus.framing-probe")
        logger.logLevel = .critical
        let client: ModbusClient
        do {
            client = try ModbusClient(
                endpoint: other,
                options: ClientOptions(responseTimeout: timeout, retry: RetryPolicy(maxAttempts: 1)),
                logger: logger
            )
        } catch {
            return nil
        }
        let answered: Bool
        do {
            _ = try await client.readRegisters(table, address: address, count: 1, unit: unit)
            answered = true
        } catch {
            if case .exception = error.kind { answered = true } else { answered = false }
        }
        await client.close()
        return answered ? other : nil
    }

    /// The flag (and agent-file key) that selects `endpoint`'s framing.
    public static func flag(for endpoint: ModbusEndpoint) -> String {
        switch endpoint {
        case .tcp(let host, let port): "--tcp \(host):\(port) (in an agent file: tcp:)"
        case .rtuOverTCP(let host, let port): "--rtu-tcp \(host):\(port) (in an agent file: rtu-tcp:)"
        case .rtu(let device, _): "--device \(device)"
        }
    }
}
