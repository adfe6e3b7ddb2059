-- Stock of a paid order that is cancelled before it ships goes back on hand: the
-- reservation ends `returned` and the ledger says why.

ALTER TABLE reservations DROP CONSTRAINT reservations_status_check;
ALTER TABLE reservations ADD CONSTRAINT reservations_status_check
    CHECK (status IN ('held', 'committed', 'released', 'returned'));

ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_reason_check;
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_reason_check
    CHECK (reason IN ('received', 'damaged', 'correction', 'sale', 'initial', 'import', 'return'));
