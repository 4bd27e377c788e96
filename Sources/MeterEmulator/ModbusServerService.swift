import ModbusBridge
import ServiceLifecycle

/// Serves one bus until graceful shutdown.
package struct ModbusServerService: Service {
    package let server: any ModbusServing

    package init(server: any ModbusServing) {
        self.server = server
    }

    package func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await server.run()
        }
    }
}
