import Dispatch

/// Runs `body` over `0..<count` split into contiguous ranges, on up to `workers` threads
/// (the calling thread included). Blocks until all ranges are done.
func parallelRanges(count: Int, workers: Int, minimumPerRange: Int = 64, _ body: @Sendable (Range<Int>) -> Void) {
    let chunks = max(1, min(workers * 4, count / max(1, minimumPerRange)))
    if workers <= 1 || chunks == 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = count * chunk / chunks
        let end = count * (chunk + 1) / chunks
        body(start..<end)
    }
}

/// A fixed-size buffer that parallel workers fill at disjoint indices.
///
/// `@unchecked Sendable` is sound only under that discipline: each index is written by one
/// worker, and the buffer is read after `parallelRanges` has returned.
final class DisjointSlots<Element>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Element>

    init(count: Int, initial: Element) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: initial)
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    subscript(index: Int) -> Element {
        get { buffer[index] }
        set { buffer[index] = newValue }
    }

    var array: [Element] { Array(buffer) }
}
