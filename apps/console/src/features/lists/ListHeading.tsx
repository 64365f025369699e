/**
 * The heading of a list that holds still under the pointer (stableRows.ts): its title and count, and
 * how many new rows wait for the pointer to leave.
 */
export function ListHeading({
  id,
  title,
  count,
  countTestid,
  added,
  newTestid,
  what,
}: {
  id: string
  title: string
  count: number
  countTestid: string
  added: number
  newTestid: string
  /** What holds still: "list", "queue". */
  what: string
}) {
  return (
    <h2 id={id} className="list-heading">
      {title}{' '}
      <span className="muted" data-testid={countTestid}>
        {count}
      </span>
      {added > 0 && (
        <span
          className="list-new"
          data-testid={newTestid}
          data-count={added}
          title={`Rows keep their place while the pointer is over the ${what}: new ones join when it leaves`}
        >
          +{added} new when the pointer leaves
        </span>
      )}
    </h2>
  )
}
