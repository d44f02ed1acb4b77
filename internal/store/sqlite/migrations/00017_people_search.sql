-- +goose Up
-- People search (PersonFilter.Query, /people?q=): a trigram index over the
-- four fields the search matches, so that a substring of three characters
-- or more is found without reading every person. The table holds no copy
-- of the data (content='persons'); the triggers keep it in step with
-- every write of a person.
CREATE VIRTUAL TABLE persons_search USING fts5(employee_id, display_name, email, department,
    content='persons', content_rowid='rowid', tokenize='trigram');
INSERT INTO persons_search(persons_search) VALUES ('rebuild');
-- +goose StatementBegin
CREATE TRIGGER persons_search_insert AFTER INSERT ON persons BEGIN
    INSERT INTO persons_search(rowid, employee_id, display_name, email, department)
    VALUES (new.rowid, new.employee_id, new.display_name, new.email, new.department);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER persons_search_delete AFTER DELETE ON persons BEGIN
    INSERT INTO persons_search(persons_search, rowid, employee_id, display_name, email, department)
    VALUES ('delete', old.rowid, old.employee_id, old.display_name, old.email, old.department);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER persons_search_update AFTER UPDATE OF employee_id, display_name, email, department ON persons BEGIN
    INSERT INTO persons_search(persons_search, rowid, employee_id, display_name, email, department)
    VALUES ('delete', old.rowid, old.employee_id, old.display_name, old.email, old.department);
    INSERT INTO persons_search(rowid, employee_id, display_name, email, department)
    VALUES (new.rowid, new.employee_id, new.display_name, new.email, new.department);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER persons_search_update;
DROP TRIGGER persons_search_delete;
DROP TRIGGER persons_search_insert;
DROP TABLE persons_search;
