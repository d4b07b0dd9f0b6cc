import "./bots.css";
import { BotEditor } from "./BotEditor";
import { BotList } from "./BotList";

/** `/bots` lists the bots, `/bots/:id` edits one (admins and managers). */
export function Bots({ params }: { params: Record<string, string> }) {
  const id = Number(params.id);
  if (params.id !== undefined && Number.isInteger(id) && id > 0) return <BotEditor key={id} id={id} />;
  return <BotList />;
}
