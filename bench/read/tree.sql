WITH RECURSIVE sub AS (
		SELECT id, tenant_id, parent_materialnode_id, title, description, learning_goal,
	expected_knowledge, expected_skills, "order", node_fingerprint, created_at, updated_at FROM material_nodes WHERE id = :root AND tenant_id = :tenant
		UNION
		SELECT m.id, m.tenant_id, m.parent_materialnode_id, m.title, m.description, m.learning_goal,
			m.expected_knowledge, m.expected_skills, m."order", m.node_fingerprint, m.created_at, m.updated_at
		FROM material_nodes m JOIN sub ON m.parent_materialnode_id = sub.id
		WHERE m.tenant_id = :tenant
	)
	SELECT * FROM sub ORDER BY "order", id;
