/// Why a checkpoint from the super node was not accepted: one sentence naming the field.
package struct CheckpointRefusal: Error, CustomStringConvertible, Sendable, Equatable {
    package let description: String
    package init(_ description: String) { self.description = description }
}
