/// Carries a closure into a new thread (the continuation it resumes is thread-safe).
package struct UnsafeSendableBox: @unchecked Sendable {
    package let body: () -> Void
}
