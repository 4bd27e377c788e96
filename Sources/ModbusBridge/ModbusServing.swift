/// Common interface of the RTU and TCP servers.
public protocol ModbusServing: AnyObject, Sendable {
    /// Starts serving on a thread of the server's own.
    func start() throws(ModbusError)
    /// Stops serving and waits for the server's thread to finish.
    func stop()
    /// What the server has done so far.
    var statistics: ServerStatistics { get }
}

extension ModbusServing {
    /// Serves until the calling task is cancelled, then stops: the shape a
    /// swift-service-lifecycle `Service.run()` needs.
    public func run() async throws {
        try start()
        defer { stop() }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                break  // cancelled: the caller asked us to stop
            }
        }
    }
}
