import GridAPI
import LedgerLite

// How the super node shows its refusals and value flags in the API's views.

extension RejectionView {
    package init(_ r: Rejection) {
        self.init(
            reason: r.reason.rawValue,
            message: r.message,
            index: r.index,
            height: r.height,
            expectedHeight: r.expectedHeight
        )
    }
}

extension ValueFlagView {
    package init(_ f: ValueFlag) {
        self.init(
            gateway: f.gateway.hex,
            height: f.height,
            producer: f.producer.hex,
            dispatchedWh: f.dispatchedWh,
            exportedWh: f.exportedWh,
            toleranceWh: f.toleranceWh,
            chainToleranceWh: f.chainToleranceWh,
            flaggedAt: f.flaggedAt
        )
    }
}
