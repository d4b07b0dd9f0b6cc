// Replaced by the page's real implementation.
export function Team(_: { params: Record<string, string> }) {
  return <main class="main"><h1>Team</h1></main>;
}
