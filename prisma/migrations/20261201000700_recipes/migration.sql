-- Recipes (DESIGN §5): how an appserver becomes Open edX. Instances made before recipes existed
-- ran their own configuration repository and playbook, which is the custom recipe, so they keep
-- doing exactly that, and new instances default to tutor.
CREATE TYPE "Recipe" AS ENUM ('tutor', 'native', 'custom');

ALTER TABLE "Instance" ADD COLUMN "recipe" "Recipe" NOT NULL DEFAULT 'custom';
ALTER TABLE "Instance" ALTER COLUMN "recipe" SET DEFAULT 'tutor';
ALTER TABLE "Instance" ADD COLUMN "tutorPlugins" TEXT[] DEFAULT ARRAY[]::TEXT[];
