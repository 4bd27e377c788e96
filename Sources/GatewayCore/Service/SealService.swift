import ServiceLifecycle

/// Seals blocks by time: every quarter of the seal interval it asks the writer to seal
/// if the oldest pending entry is old enough. On graceful shutdown it seals what is
/// pending, so a clean stop leaves nothing in the journal.
package struct SealService: Service {
    package let writer: ChainWriter
    package let tick: Duration

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: tick) } catch { break }
                await writer.sealIfDue()
            }
        }
        await writer.sealNow()
    }

    package init(writer: ChainWriter, tick: Duration) {
        self.writer = writer
        self.tick = tick
    }
}
