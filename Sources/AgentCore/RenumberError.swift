/// Why a record in the outbox cannot be renumbered.
package enum RenumberError: Error, CustomStringConvertible {
    /// Only readings carry a sequence the gateway may ask to renumber.
    case notAReading

    package var description: String { "the outbox holds a record that is not a reading" }
}
