/// One escalation the super node answered, in its event stream (`event: escalation`).
package struct EscalationEventView: Codable, Sendable {
    /// When it was answered (ms UTC).
    package var at: Int64
    /// The consumer whose request it was, when the request could be read.
    package var consumer: String?
    /// The energy asked for, Wh, when the request could be read.
    package var energyWh: UInt64?
    /// The answer given to the consumer's gateway.
    package var answer: EscalationAnswer

    package init(at: Int64, consumer: String? = nil, energyWh: UInt64? = nil, answer: EscalationAnswer) {
        self.at = at
        self.consumer = consumer
        self.energyWh = energyWh
        self.answer = answer
    }
}
