import Testing

@testable import LedgerLite

@Suite struct FairnessTests {
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-12 }

    @Test func spread() {
        #expect(Fairness.spread([]) == 0)
        #expect(Fairness.spread([5]) == 0)
        #expect(Fairness.spread([3, 9, 4]) == 6)
        #expect(Fairness.spread([0, .max]) == .max)
    }

    @Test func jainIndexByHand() {
        #expect(Fairness.jainIndex([]) == 1)
        #expect(Fairness.jainIndex([0, 0, 0]) == 1)
        #expect(Fairness.jainIndex([7, 7, 7, 7]) == 1)
        // One of four has everything: 1/n.
        #expect(Self.close(Fairness.jainIndex([0, 0, 0, 12]), 0.25))
        // [1, 2, 3]: 36 / (3 · 14) = 6/7.
        #expect(Self.close(Fairness.jainIndex([1, 2, 3]), 6.0 / 7.0))
        // [2, 2, 4, 0]: 64 / (4 · 24) = 2/3.
        #expect(Self.close(Fairness.jainIndex([2, 2, 4, 0]), 2.0 / 3.0))
    }

    @Test func giniByHand() {
        #expect(Fairness.gini([]) == 0)
        #expect(Fairness.gini([0, 0]) == 0)
        #expect(Fairness.gini([5, 5, 5]) == 0)
        // One of four has everything: (n − 1)/n = 3/4.
        #expect(Self.close(Fairness.gini([0, 0, 0, 10]), 0.75))
        // [1, 2, 3]: pairwise |differences| 1, 2, 1 (each twice) = 8; 8 / (2 · 3 · 6) = 2/9.
        #expect(Self.close(Fairness.gini([3, 1, 2]), 2.0 / 9.0))
        // [1000, 6000, 900] Wh: |d| = 5000, 100, 5100 (×2) = 20400; 20400 / (2 · 3 · 7900) = 0.43037…
        #expect(Self.close(Fairness.gini([1000, 6000, 900]), 20400.0 / 47400.0))
    }

    @Test func hooverByHand() {
        #expect(Fairness.hooverIndex([]) == 0)
        #expect(Fairness.hooverIndex([0, 0, 0]) == 0)
        #expect(Fairness.hooverIndex([4, 4]) == 0)
        #expect(Self.close(Fairness.hooverIndex([0, 0, 0, 10]), 0.75))
        // [1, 2, 3]: mean 2, Σ|x − 2| = 2; 2 / (2 · 6) = 1/6.
        #expect(Self.close(Fairness.hooverIndex([1, 2, 3]), 1.0 / 6.0))
        // [2, 2, 4, 0]: mean 2, Σ|x − 2| = 4; 4 / 16 = 1/4.
        #expect(Self.close(Fairness.hooverIndex([2, 2, 4, 0]), 0.25))
    }

    @Test func windowCountsIdleProducersAndSplitShares() throws {
        let a = KeyID(high: 1, low: 0)
        let b = KeyID(high: 2, low: 0)
        let c = KeyID(high: 3, low: 0)
        let gone = KeyID(high: 4, low: 0)
        let consumer = KeyID(high: 9, low: 9)
        func ref(_ s: UInt64) -> RequestReference { RequestReference(consumer: consumer, sequence: s) }
        let dispatches = [
            try Dispatch(request: ref(1), outcome: .served(producer: a, energyWh: 100, producerTNTBefore: 0)),
            try Dispatch(request: ref(2), outcome: .unserved),
            try Dispatch(
                request: ref(3),
                policy: .splitTNT,
                outcome: .split([
                    DispatchShare(producer: b, energyWh: 50, tntBefore: 0),
                    DispatchShare(producer: a, energyWh: 250, tntBefore: 1),
                ])
            ),
            try Dispatch(request: ref(4), outcome: .served(producer: gone, energyWh: 20, producerTNTBefore: 3)),
        ]
        let window = FairnessWindow(dispatches: dispatches, producers: [a, b, c])
        #expect(window.producers == [a, b, c, gone])
        #expect(window.totals[a] == ProducerWindowTotals(dispatches: 2, energyWh: 350))
        #expect(window.totals[b] == ProducerWindowTotals(dispatches: 1, energyWh: 50))
        #expect(window.totals[c] == ProducerWindowTotals(dispatches: 0, energyWh: 0))
        #expect(window.totals[gone] == ProducerWindowTotals(dispatches: 1, energyWh: 20))
        #expect(window.dispatchCounts == [2, 1, 0, 1])
        #expect(window.energyServedWh == [350, 50, 0, 20])
        let report = window.report
        #expect(report.producerCount == 4)
        #expect(report.countSpread == 2)
        // Counts [2, 1, 0, 1]: 16 / (4 · 6) = 2/3.
        #expect(Self.close(report.countJain, 2.0 / 3.0))
        // Energy [350, 50, 0, 20], Σ 420, Σx² 125 400: 176 400 / (4 · 125 400).
        #expect(Self.close(report.energyJain, 176_400.0 / 501_600.0))
        // Sorted [0, 20, 50, 350]: (−3·0 − 1·20 + 1·50 + 3·350) / (4 · 420) = 1080 / 1680.
        #expect(Self.close(report.energyGini, 1080.0 / 1680.0))
        // Mean 105: |245| + |55| + |105| + |85| = 490; 490 / 840.
        #expect(Self.close(report.energyHoover, 490.0 / 840.0))
        // No dispatches at all: every active producer at zero, perfectly "fair".
        let idle = FairnessWindow(dispatches: [Dispatch](), producers: [a, b]).report
        #expect(idle.countSpread == 0 && idle.countJain == 1 && idle.energyGini == 0 && idle.energyHoover == 0)
    }
}
