/// A meter's energy counters at one reading, as a settlement period needs them.
package struct OCMFPoint: Codable, Hashable, Sendable {
    /// The reading's timestamp, ms UTC.
    package var time: Int64
    /// Energy imported, Wh (OBIS 1-0:1.8.0).
    package var importWh: Int64
    /// Energy exported, Wh (OBIS 1-0:2.8.0), when the meter reports it.
    package var exportWh: Int64?
    /// OCMF meter state letter: `G` good, `M` tamper flag, `E` error flag.
    package var status: String

    package init(time: Int64, importWh: Int64, exportWh: Int64?, status: String) {
        self.time = time
        self.importWh = importWh
        self.exportWh = exportWh
        self.status = status
    }
}

/// A settlement period that is over: the readings its OCMF document begins and ends with.
package struct FinishedOCMFPeriod: Hashable, Sendable {
    /// The period's start, ms UTC (a multiple of its length).
    package var start: Int64
    /// Its end (exclusive).
    package var end: Int64
    /// The begin reading (`TX` B).
    package var begin: OCMFPoint
    /// The end reading (`TX` E): the period's last reading.
    package var last: OCMFPoint
}

/// The open settlement period of one meter, and the rule that closes it.
///
/// Periods are `length` long and aligned to UTC (15 min: :00, :15, :30, :45); a reading at
/// exactly a boundary belongs to the period it starts. A period's document begins with the
/// previous period's last reading when that period was the one just before (so consecutive
/// documents share their boundary counter and no energy falls between them), else with
/// the period's first reading; it ends with the period's last reading. A period is finished
/// by the first reading of a later period: a period without readings has no document.
/// Readings older than the period's last are ignored (a clock that went back).
package struct OCMFPeriod: Codable, Hashable, Sendable {
    /// The period's start, ms UTC.
    package var start: Int64
    /// Its begin reading.
    package var begin: OCMFPoint
    /// Its latest reading.
    package var last: OCMFPoint

    /// The state after `point`, and the period it finished, if any.
    package static func observe(
        _ point: OCMFPoint,
        open: OCMFPeriod?,
        length: Int64
    ) -> (open: OCMFPeriod?, finished: FinishedOCMFPeriod?) {
        guard point.time >= 0, length > 0 else { return (open, nil) }
        let start = point.time - point.time % length
        guard let open else { return (OCMFPeriod(start: start, begin: point, last: point), nil) }
        guard point.time >= open.last.time else { return (open, nil) }
        if start == open.start {
            var next = open
            next.last = point
            return (next, nil)
        }
        // point.time ≥ open.last.time ≥ 0, so open.start + length does not overflow.
        let finished = FinishedOCMFPeriod(
            start: open.start,
            end: open.start + length,
            begin: open.begin,
            last: open.last
        )
        let begin = start == open.start + length ? open.last : point
        return (OCMFPeriod(start: start, begin: begin, last: point), finished)
    }
}
