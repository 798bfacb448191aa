/**
 * The explorer's workspace in Node (the server's model worker, workspace-host.ts): the
 * shared WorkspaceCore with sharp for images. The static site runs the same core in a Web
 * Worker with the browser's canvas (src/web/static/).
 */
import { nodePlatform } from './node-platform.ts';
import { WorkspaceCore } from './workspace-core.ts';

export { NotFoundError, type ModelSettings } from './workspace-core.ts';

export class Workspace extends WorkspaceCore {
  constructor() {
    super(nodePlatform);
  }
}
