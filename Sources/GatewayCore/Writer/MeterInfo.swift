import LedgerLite

/// What the gateway knows about an enrolled meter.
package struct MeterInfo: Sendable {
    package var key: PublicIdentity
    package var role: MeterRole
    package var active: Bool
    package var enrolledAt: Int64
    /// The latest accepted reading (pending or sealed).
    package var lastReading: Reading?

    package init(key: PublicIdentity, role: MeterRole, active: Bool, enrolledAt: Int64, lastReading: Reading? = nil) {
        self.key = key
        self.role = role
        self.active = active
        self.enrolledAt = enrolledAt
        self.lastReading = lastReading
    }

    /// The meter as `enrollment` leaves it: active, with its key and role, keeping the latest
    /// reading of an earlier enrollment (`previous`), the one rule every copy of the writer's
    /// meters follows.
    package init(_ enrollment: Enrollment, previous: MeterInfo?) {
        self.init(
            key: enrollment.meterKey,
            role: enrollment.role,
            active: true,
            enrolledAt: enrollment.timestamp,
            lastReading: previous?.lastReading
        )
    }
}
