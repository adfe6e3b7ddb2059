-- What the application form asks besides the shop's name in its own language: the
-- name in other languages, the plan the cooperative wishes for, and the language the
-- applicant wrote in (their confirmation and the decision are emailed in it). A shop
-- keeps the names it was approved with; its staff change them with its settings.
ALTER TABLE applications
    ADD COLUMN names  jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN plan   text  REFERENCES plans (code),
    ADD COLUMN locale text  NOT NULL DEFAULT 'zh-CN';
ALTER TABLE tenants ADD COLUMN names jsonb NOT NULL DEFAULT '{}';
