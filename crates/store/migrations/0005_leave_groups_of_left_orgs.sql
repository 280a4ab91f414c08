-- Atrium schema, version 8: a membership of an org's group ends with the org membership.
--
-- Removing a member from an organization used to keep their group rows there, so adding them
-- back silently restored the groups' template and workspace grants. The store now deletes them
-- together (orgs::remove_member, as Coder's trigger on organization_members); this drops the
-- rows earlier removals left behind.
DELETE FROM group_members
WHERE NOT EXISTS (
    SELECT 1
    FROM groups g
    JOIN organization_members m ON m.org_id = g.org_id
    WHERE g.id = group_members.group_id AND m.user_id = group_members.user_id
);
